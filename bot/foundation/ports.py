"""The ports: what amd-bot needs from each outside system, as small typed Protocols.

Adapters live in `bot/adapters/` (one module per system) and are chosen only in `bot/wiring.py`.
The data types here are plain and immutable so they can cross threads, be cached and be rendered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, Protocol

# --- warehouse -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Relation:
    """A table in the warehouse, named from the dbt catalog (never from user text)."""

    database: str | None
    schema: str
    name: str


@dataclass(frozen=True)
class EntityStats:
    entity: str
    rows: int
    last_loaded_at: datetime | None  # timezone-aware UTC; None when the table is empty
    last_altered: datetime | None = None  # the warehouse's own metadata, where it keeps one (Snowflake)


@dataclass(frozen=True)
class DailyVolume:
    day: date
    rows: int


@dataclass(frozen=True)
class Rows:
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]


@dataclass(frozen=True)
class StatsQuery:
    """What the warehouse needs to know of one entity to count it."""

    entity: str
    relation: Relation
    load_column: str | None  # the entity's own load timestamp column, if it has one


class Warehouse(Protocol):
    async def entity_stats(self, queries: Sequence[StatsQuery]) -> list[EntityStats]:
        """Rows and last load of every entity in ONE query (UNION ALL)."""

    async def daily_volume(self, query: StatsQuery, days: int) -> list[DailyVolume]:
        """Rows per day of `load_column` over the last `days` days (missing days are zero)."""

    async def sample_rows(self, relation: Relation, limit: int) -> Rows:
        """Up to `limit` rows of a relation (e.g. a dbt --store-failures table)."""

    async def count_rows(self, relation: Relation, group_by: str | None = None) -> dict[str, int]:
        """Row count, optionally per value of one column (key '' when not grouped)."""

    async def close(self) -> None: ...


# --- orchestrator ----------------------------------------------------------------------------------

RunStateName = Literal["queued", "running", "success", "failed"]


@dataclass(frozen=True)
class DagRunRef:
    dag_id: str
    run_id: str


@dataclass(frozen=True)
class TaskState:
    task_id: str
    state: str  # Airflow task states: success, failed, running, queued, skipped, upstream_failed, ...
    try_number: int = 1
    started_at: datetime | None = None
    ended_at: datetime | None = None
    log_url: str | None = None


@dataclass(frozen=True)
class RunState:
    dag_id: str
    run_id: str
    state: RunStateName
    logical_date: datetime | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    conf: Mapping[str, Any] = field(default_factory=dict)
    url: str | None = None

    @property
    def ref(self) -> DagRunRef:
        return DagRunRef(self.dag_id, self.run_id)

    @property
    def finished(self) -> bool:
        return self.state in ("success", "failed")


@dataclass(frozen=True)
class RunReport:
    """A finished run and the ids of its tasks that failed: what the failure watcher needs of it."""

    run: RunState
    failed_tasks: tuple[str, ...] = ()


@dataclass(frozen=True)
class DagSchedule:
    """A DAG's schedule as the orchestrator tells it: the failure watcher's "paused" and "missing"."""

    dag_id: str
    paused: bool
    paused_since: datetime | None = None  # where the orchestrator says
    next_run_after: datetime | None = None  # when its scheduler is to start the next run; None: unscheduled


@dataclass(frozen=True)
class DagParam:
    """One of a DAG's params as Airflow declares it: the run form and the conf checks are built from it."""

    name: str
    default: Any  # None also when there is no default: the schema then says whether null is allowed
    description: str | None = None
    schema: Mapping[str, Any] = field(default_factory=dict)  # JSON schema (`type`, `enum`, `format`, bounds)


Reprocess = Literal["none", "failed", "completed"]  # Airflow 3's reprocess_behavior values
_AGAIN: dict[str, tuple[str, ...]] = {"none": (), "failed": ("failed",), "completed": ("success", "failed")}


@dataclass(frozen=True)
class BackfillOptions:
    """A backfill's options, as Airflow 3's `POST /api/v2/backfills` takes them. `reprocess`: which days
    that have a run get one again (none; failed: those whose run failed; completed: every finished one),
    never one queued or running. `max_active_runs` None: Airflow's default."""

    reprocess: Reprocess = "none"
    max_active_runs: int | None = None

    def again(self, runs: Sequence[RunState]) -> list[RunState]:
        """The runs among `runs` (one per day) this backfill runs again."""
        return [r for r in runs if r.state in _AGAIN[self.reprocess]]


class RunAlreadyExists(Exception):
    """The caller-chosen dag_run_id was used already (Airflow answers 409): the trigger is a repeat."""

    def __init__(self, run: RunState) -> None:
        super().__init__(f"run {run.run_id} of {run.dag_id} exists already")
        self.run = run


class BackendUnavailable(Exception):
    """An outside system could not be reached or refused us; the message is safe to show a user."""


class Orchestrator(Protocol):
    environment: str  # shown on confirmation cards, e.g. "composer: prod-eu" or "local"

    async def list_dags(self) -> list[str]: ...

    async def dag_params(self, dag_id: str) -> list[DagParam]:
        """The DAG's declared params (Airflow: GET /dags/{id}/details; Airflow 2 sorts them by name)."""

    async def trigger(
        self, dag_id: str, run_id: str, conf: Mapping[str, Any], logical_date: datetime | None
    ) -> RunState:
        """Start a run with a caller-chosen id; raises RunAlreadyExists for a repeat."""

    async def runs_on(self, dag_id: str, days: Sequence[datetime]) -> list[RunState]:
        """Its runs whose logical date is one of `days` (list calls filtered by logical date)."""

    async def backfill(
        self, dag: str, days: Sequence[datetime], conf: Mapping[str, Any], key: str, options: BackfillOptions
    ) -> None:
        """A run on each of `days` that has none, and the existing runs `options.again` picks run again
        (Airflow 3: ONE backfill; else new run ids `<key>__<day>`, and a run again as the same run)."""

    async def backfills_natively(self) -> bool:
        """True where the orchestrator backfills by itself (Airflow 3), so `max_active_runs` applies."""

    async def run_of_link(self, url: str) -> tuple[str, str | None] | None:
        """(DAG, run id or None) a link into this orchestrator's UI points to; None for other links."""

    async def get_runs(self, refs: Sequence[DagRunRef]) -> list[RunState]:
        """Current state of many runs in ONE call (Airflow: POST /dags/~/dagRuns/list)."""

    async def latest_runs(self, dag_ids: Sequence[str], limit: int) -> list[RunState]: ...

    async def task_states(self, ref: DagRunRef) -> list[TaskState]: ...

    async def runs_ended_since(self, dag_ids: Sequence[str], since: datetime) -> list[RunReport]:
        """EVERY run of these DAGs (scheduled ones too) that ended at or after `since`, in the order they
        ended, with their failed task ids: one list call (all pages), one more if any failed."""

    async def active_runs(self, dag_ids: Sequence[str]) -> list[RunState]:
        """The runs of these DAGs queued or running now, in ONE list call."""

    async def dag_schedules(self, dag_ids: Sequence[str]) -> list[DagSchedule]:
        """Paused or not, and the next run due, of each of these DAGs the orchestrator knows: ONE call."""

    async def clear_failed(self, ref: DagRunRef) -> list[str]:
        """Clear the failed task instances of a run so they run again; their ids."""

    async def close(self) -> None: ...


# --- chat surfaces ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CardRef:
    """A posted message that can be updated in place or replied to in a thread. Serialisable, so
    followed cards survive a restart (stored in the state store)."""

    channel: str
    ts: str
