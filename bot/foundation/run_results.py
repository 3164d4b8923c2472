"""The port to dbt's results of orchestrator runs: the run_results.json files the DAG factory's tasks
keep in a shared directory (AMD_DBT_RESULTS_DIR), one per task, so the failure watcher can name the
tests that failed a run it did not trigger."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bot.foundation.dbt_port import TestOutcome
from bot.foundation.ports import DagRunRef


@dataclass(frozen=True)
class RunTest:
    run: DagRunRef
    task_id: str
    outcome: TestOutcome


@dataclass(frozen=True)
class RunTests:
    tests: tuple[RunTest, ...] = ()
    unreadable: tuple[str, ...] = ()  # "<what>: why", for each file or run that could not be read


class RunResults(Protocol):
    async def tests_of(self, runs: Sequence[DagRunRef], nodes: Mapping[str, Mapping[str, Any]]) -> RunTests:
        """The dbt tests the tasks of these runs left results of, enriched from the manifest's `nodes`.
        A run whose tasks kept nothing has no tests; a file that does not read is named, not raised."""
