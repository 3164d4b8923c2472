"""The dbt port: what amd-bot needs from dbt (tests, source freshness), as a small typed Protocol.

Beside bot/foundation/ports.py, which keeps the warehouse, orchestrator and chat ports; the runner is
bot/adapters/dbt/cli.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from bot.foundation.ports import Relation

# --- dbt -------------------------------------------------------------------------------------------

TestStatus = Literal["pass", "warn", "fail", "error", "skipped"]


@dataclass(frozen=True)
class TestOutcome:
    unique_id: str
    name: str
    status: TestStatus
    failures: int
    message: str | None
    model: str | None  # unique_id of the node the test is attached to
    column: str | None
    severity: str  # "error" | "warn"
    execution_time: float
    compiled_code: str | None = None
    failures_relation: Relation | None = None  # where --store-failures put the failing rows


@dataclass(frozen=True)
class DbtProgress:
    done: int
    total: int
    last: str | None = None  # name of the node that just finished
    queued: int = 0  # position in the queue while waiting for a slot (1 = next); 0 once running


@dataclass(frozen=True)
class SourceFreshness:
    """One source table's `dbt source freshness` result (sources.json, or the log for runtime errors)."""

    unique_id: str
    name: str  # "<source>.<table>"
    status: str  # pass | warn | error | runtime error
    max_loaded_at: datetime | None
    age_s: float | None
    error: str | None = None


@dataclass(frozen=True)
class DbtInvocation:
    invocation_id: str
    command: str  # "test" | "build" | "source freshness"
    selector: str | None
    exit_code: int  # 0 ok, 1 a test failed, 2 dbt could not run
    outcomes: tuple[TestOutcome, ...]
    started_at: datetime
    ended_at: datetime
    error: str | None = None  # dbt's own error message when exit_code == 2
    sources: tuple[SourceFreshness, ...] = ()  # `source freshness` results
    cancelled: bool = False  # stopped by DbtRunner.cancel (exit_code is then 2)
    timed_out: bool = False  # stopped at the dbt time limit (exit_code is then 2)


ProgressCallback = Callable[[DbtProgress], Awaitable[None]]


class DbtRunner(Protocol):
    async def test(
        self, selector: str | None, *, run_key: str, on_progress: ProgressCallback | None = None
    ) -> DbtInvocation:
        """`dbt test` of a checked selector; queued: DbtProgress(queued=n); cancelled: `cancelled=True`."""

    async def freshness(self, *, run_key: str, on_progress: ProgressCallback | None = None) -> DbtInvocation:
        """`dbt source freshness`: the result is in `DbtInvocation.sources`."""

    async def cancel(self, run_key: str) -> bool:
        """Stop a running invocation or take it out of the queue; False when it is not active."""
