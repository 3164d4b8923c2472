"""RunResults from the directory the DAG factory's tasks keep dbt's run_results.json in
(deploy/composer/dag_factory.py): `<root>/<dag_id>/<run_id>/<task_id>.json`. On Composer the root is in
the bucket's `data/` folder, mounted where the bot runs (e.g. GKE's Cloud Storage FUSE driver).

The DAG and run ids come from the orchestrator, not from us: one that is not a plain file name is
refused, and a file that resolves outside the root (a symlink) is not read.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bot.adapters.dbt.artifacts import load_json, outcomes_from
from bot.foundation.ports import DagRunRef
from bot.foundation.run_results import RunTest, RunTests

# What a file that is not a run_results.json can make the reader raise (half written, truncated,
# another JSON shape, unreadable bytes).
_NOT_RESULTS = (ValueError, KeyError, TypeError, AttributeError)


class ResultsDir:
    def __init__(self, root: Path) -> None:
        self._root = root

    async def tests_of(self, runs: Sequence[DagRunRef], nodes: Mapping[str, Mapping[str, Any]]) -> RunTests:
        return await asyncio.to_thread(self._read, runs, {"nodes": nodes})

    def _read(self, runs: Sequence[DagRunRef], manifest: Mapping[str, Any]) -> RunTests:
        root = self._root.resolve()
        if not root.is_dir():  # a missing mount must not read as "no test failed"
            return RunTests(unreadable=(f"{self._root} is not a directory (not mounted?)",))
        tests: list[RunTest] = []
        unreadable: list[str] = []
        for run in runs:
            where = f"{run.dag_id}/{run.run_id}"
            if not (_plain(run.dag_id) and _plain(run.run_id)):
                unreadable.append(f"`{where}`: not a name a directory can have")
                continue
            for path in sorted((root / run.dag_id / run.run_id).glob("*.json")):  # none kept: no dir
                try:
                    if not path.resolve().is_relative_to(root):
                        raise PermissionError("outside the results directory")
                    outcomes = outcomes_from(load_json(path) or {}, manifest)
                except (OSError, *_NOT_RESULTS) as exc:
                    unreadable.append(f"`{where}/{path.name}`: {_why(exc)}")
                    continue
                tests += (RunTest(run, path.stem, outcome) for outcome in outcomes)
        return RunTests(tuple(tests), tuple(unreadable))


def _plain(name: str) -> bool:
    return name not in ("", ".", "..") and not any(c in name for c in "/\\\0")


def _why(exc: Exception) -> str:
    if isinstance(exc, (json.JSONDecodeError, UnicodeDecodeError)):
        return "not JSON (cut short?)"
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return "not a dbt run_results.json"
