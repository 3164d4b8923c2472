"""What does following N Airflow runs cost per polling tick: amd-bot's batch call vs one GET per run?

A stand-in Airflow 3 REST server runs in-process (aiohttp) and answers `POST /dags/~/dagRuns/list` and
`GET /dags/{dag}/dagRuns/{run}` after ~2 ms each, like a nearby web server with a warm database; it caps
page_limit at 100 like Airflow's default [api] maximum_page_limit. The same AirflowOrchestrator polls
the same N followed runs (plus older runs it does not follow) three ways:
  batch       - get_runs(refs): POST /dags/~/dagRuns/list, paged (what the bot's scheduler does)
  naive seq   - one GET per run, one after the other
  naive conc  - one GET per run, all at once
Prints API calls and milliseconds per tick for each, and the ratios to batch.

    .venv/bin/python bench/polling.py [--runs 200] [--ticks 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.standin_airflow import LATENCY_S, StandInAirflow, page
from bot.foundation.ports import DagRunRef

OLDER_RUNS = 300  # finished runs of the same DAGs that nobody follows any more


class PollingAirflow(StandInAirflow):
    def __init__(self, followed: int) -> None:
        super().__init__()
        total = followed + OLDER_RUNS
        # Newest first, as the bot asks for (order_by=-id); the followed runs are the newest.
        self.runs = [
            {"dag_id": f"amd_entity_{i % 10}", "dag_run_id": f"amd__{total - i:05d}", "state": "running"}
            for i in range(total)
        ]
        self.by_id = {(r["dag_id"], r["dag_run_id"]): r for r in self.runs}
        self.app.add_routes(
            [
                web.post("/api/v2/dags/~/dagRuns/list", self._list),
                web.get("/api/v2/dags/{dag_id}/dagRuns/{run_id}", self._get),
            ]
        )

    async def _list(self, request: web.Request) -> web.Response:
        body = await request.json()
        dag_ids = set(body["dag_ids"])
        return page([r for r in self.runs if r["dag_id"] in dag_ids], body, "dag_runs")

    async def _get(self, request: web.Request) -> web.Response:
        return web.json_response(self.by_id[(request.match_info["dag_id"], request.match_info["run_id"])])


async def measure(
    server: PollingAirflow, tick: Callable[[], Awaitable[object]], ticks: int
) -> tuple[float, float]:
    await tick()  # warm-up: version probe, login, connection pool
    server.api_calls = 0
    durations = []
    for _ in range(ticks):
        started = time.perf_counter()
        await tick()
        durations.append(time.perf_counter() - started)
    return server.api_calls / ticks, statistics.median(durations) * 1000


async def main(followed: int, ticks: int) -> None:
    server = PollingAirflow(followed)
    refs = [DagRunRef(r["dag_id"], r["dag_run_id"]) for r in server.runs[:followed]]
    async with server.serving() as airflow:

        async def naive_sequential() -> None:
            for ref in refs:
                await airflow.get_run(ref)

        async def naive_concurrent() -> None:
            await asyncio.gather(*(airflow.get_run(ref) for ref in refs))

        results = {
            "batch": await measure(server, lambda: airflow.get_runs(refs), ticks),
            "naive seq": await measure(server, naive_sequential, ticks),
            "naive conc": await measure(server, naive_concurrent, ticks),
        }
        assert len(await airflow.get_runs(refs)) == followed

    batch_calls, batch_ms = results["batch"]
    print(
        f"\n{followed} followed runs (+{OLDER_RUNS} older ones), {LATENCY_S * 1000:g} ms per API call,",
        end=" ",
    )
    print(f"median of {ticks} ticks")
    print(f"{'strategy':<11} {'calls/tick':>10} {'ms/tick':>9} {'calls ×':>8} {'time ×':>7}")
    for name, (calls, ms) in results.items():
        print(f"{name:<11} {calls:10.0f} {ms:9.1f} {calls / batch_calls:8.1f} {ms / batch_ms:7.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--ticks", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.ticks))
