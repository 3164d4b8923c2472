"""dbt results at scale: 10,000 tests in synthetic run_results.json + manifest.json.

Measures, per stage, the best wall time of a few repeats and the peak Python memory (tracemalloc):
  read JSON      json.loads of both artifacts: the floor any parser pays (the baseline)
  parse          load_json + outcomes_from -> TestOutcome (what DbtCliRunner does after a run)
  final card     result_card + the thread's failure list, rendered to Block Kit and console text
Run: .venv/bin/python bench/dbt_results.py [tests] [failing-share]
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.adapters.dbt.artifacts import load_json, outcomes_from
from bot.foundation.dbt_port import DbtInvocation
from bot.render.console import to_text
from bot.render.slack import to_blocks
from commands.test.views import Owners, TestRequest, failure_list, result_card

REPEATS = 5


def synthetic(tests: int, failing_share: float) -> tuple[dict[str, Any], dict[str, Any]]:
    """A manifest and run results shaped like dbt 1.11's (the fields we read, plus typical bulk)."""
    models = max(tests // 10, 1)
    nodes: dict[str, Any] = {}
    for m in range(models):
        nodes[f"model.amd.m{m}"] = {
            "resource_type": "model",
            "name": f"m{m}",
            "config": {"meta": {"owner": f"team{m % 12}"}, "materialized": "table"},
            "columns": {f"c{c}": {"name": f"c{c}", "description": "x" * 40} for c in range(8)},
        }
    results = []
    failing_every = max(int(1 / failing_share), 1) if failing_share else tests + 1
    for t in range(tests):
        uid = f"test.amd.not_null_m{t % models}_c{t % 8}_{t}.{t:010x}"
        failed = t % failing_every == 0
        nodes[uid] = {
            "resource_type": "test",
            "name": uid.split(".")[2],
            "attached_node": f"model.amd.m{t % models}",
            "column_name": f"c{t % 8}",
            "config": {"severity": "ERROR", "store_failures": True},
            "database": "warehouse",
            "schema": "amd_dbt_test__audit",
            "alias": uid.split(".")[2],
            "test_metadata": {"name": "not_null", "kwargs": {"column_name": f"c{t % 8}"}},
            "depends_on": {"macros": ["macro.dbt.test_not_null"], "nodes": [f"model.amd.m{t % models}"]},
            "raw_code": "{{ test_not_null(**_dbt_generic_test_kwargs) }}",
        }
        results.append(
            {
                "unique_id": uid,
                "status": "fail" if failed else "pass",
                "failures": (t % 97) + 1 if failed else 0,
                "message": "Got rows" if failed else None,
                "execution_time": 0.05,
                "timing": [
                    {
                        "name": "execute",
                        "started_at": "2026-11-26T08:00:00Z",
                        "completed_at": "2026-11-26T08:00:01Z",
                    }
                ],
                "compiled_code": f'select * from "warehouse"."amd"."m{t % models}" where c{t % 8} is null',
                "relation_name": f'"warehouse"."amd_dbt_test__audit"."{uid.split(".")[2]}"',
                "adapter_response": {"_message": "OK"},
            }
        )
    return {"nodes": nodes, "sources": {}}, {"results": results, "metadata": {"invocation_id": "bench"}}


def measure(fn: Callable[[], object]) -> tuple[float, float]:
    best = min(_timed(fn) for _ in range(REPEATS))
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return best, peak / 2**20


def _timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main(tests: int = 10_000, failing_share: float = 0.05) -> None:
    manifest, run_results = synthetic(tests, failing_share)
    with tempfile.TemporaryDirectory() as tmp:
        manifest_path, results_path = Path(tmp) / "manifest.json", Path(tmp) / "run_results.json"
        manifest_path.write_text(json.dumps(manifest))
        results_path.write_text(json.dumps(run_results))
        size_mb = (manifest_path.stat().st_size + results_path.stat().st_size) / 2**20

        def read() -> object:
            return json.loads(manifest_path.read_bytes()), json.loads(results_path.read_bytes())

        def parse() -> tuple[Any, ...]:
            return outcomes_from(load_json(results_path) or {}, load_json(manifest_path) or {})

        outcomes = parse()
        started = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
        result = DbtInvocation("bench", "test", None, 1, outcomes, started, started + timedelta(seconds=90))
        owners = Owners({f"model.amd.m{m}": f"team{m % 12}" for m in range(tests // 10)}, {"team1": "<@U1>"})
        request = TestRequest("bench", "test", None, "U1")

        def render() -> object:
            card, full = result_card(request, result, owners), failure_list(request, result, owners)
            return to_blocks(card), to_text(card), to_blocks(full)

        rows = [("read JSON (baseline)", *measure(read)), ("parse -> TestOutcome", *measure(parse))]
        rows.append(("final card + thread list", *measure(render)))
    failing = sum(o.status != "pass" for o in outcomes)
    print(f"{tests:,} tests ({failing:,} failing), artifacts {size_mb:.1f} MiB, best of {REPEATS}")
    print(f"{'stage':28} {'time ms':>9} {'x baseline':>11} {'peak MiB':>9}")
    base = rows[0][1]
    for name, seconds, peak in rows:
        print(f"{name:28} {seconds * 1000:9.1f} {seconds / base:11.2f} {peak:9.1f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000, float(sys.argv[2]) if len(sys.argv) > 2 else 0.05)
