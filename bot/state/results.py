"""dbt test runs and their per-test results in the state store (tables in state_schema.py, version 3).

The card's buttons (failing rows, SQL, re-run) read from here, not from the run's directory, so they
work on any replica and after a restart; the digest asks `failed_since` for what broke.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, Select, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.foundation.dbt_port import DbtInvocation, TestOutcome
from bot.foundation.ports import Relation
from bot.state.schema import held_work, test_results, test_runs

FAILED = ("fail", "error")


@dataclass(frozen=True)
class TestRun:
    run_key: str
    command: str
    selector: str | None
    requested_by: str
    channel: str
    card_ts: str | None
    status: str  # running | done | error | cancelled | lost
    started_at: datetime
    ended_at: datetime | None = None
    invocation_id: str | None = None


@dataclass(frozen=True)
class StoredTest:
    run_key: str
    unique_id: str
    invocation_id: str
    name: str
    status: str
    failures: int
    model: str | None
    owner: str | None
    column: str | None
    severity: str
    message: str | None
    compiled_code: str | None
    failures_relation: Relation | None
    requested_by: str
    at: datetime


class TestResults:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def started(self, run: TestRun) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(insert(test_runs).values(**run.__dict__, counts={}))

    async def set_card(self, run_key: str, card_ts: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                update(test_runs).where(test_runs.c.run_key == run_key).values(card_ts=card_ts)
            )

    async def finished(
        self, run_key: str, invocation: DbtInvocation, owner_of: Callable[[str | None], str | None]
    ) -> None:
        """Record the invocation's outcome and one row per test, in one transaction."""
        run = await self.run(run_key)
        if run is None:
            raise KeyError(run_key)
        items = invocation.sources if invocation.command == "source freshness" else invocation.outcomes
        status = "cancelled" if invocation.cancelled else "error" if invocation.exit_code == 2 else "done"
        rows = [_result_row(run, invocation, o, owner_of(o.model)) for o in invocation.outcomes]
        async with self._engine.begin() as conn:
            await conn.execute(
                update(test_runs)
                .where(test_runs.c.run_key == run_key)
                .values(
                    status=status,
                    exit_code=invocation.exit_code,
                    invocation_id=invocation.invocation_id or None,
                    counts=dict(Counter(i.status for i in items)),
                    error=invocation.error,
                    ended_at=invocation.ended_at,
                )
            )
            if rows:
                await conn.execute(insert(test_results), rows)

    async def run(self, run_key: str) -> TestRun | None:
        async with self._engine.connect() as conn:
            row = (
                (await conn.execute(select(test_runs).where(test_runs.c.run_key == run_key)))
                .mappings()
                .first()
            )
        return None if row is None else _run(row)

    async def active(self, *, requested_by: str) -> list[TestRun]:
        """Unfinished runs someone asked for, newest first (for `/amd test cancel`)."""
        query = (
            select(test_runs)
            .where(test_runs.c.requested_by == requested_by, test_runs.c.status == "running")
            .order_by(test_runs.c.started_at.desc())
        )
        async with self._engine.connect() as conn:
            return [_run(r) for r in (await conn.execute(query)).mappings()]

    async def orphaned(self, alive: Select[Any]) -> list[TestRun]:
        """Runs still `running` that no live replica holds (`alive`: their owner ids): their process
        died. Work is held before its run row is written and released after it is finished, so a
        live run is never among them."""
        held = select(held_work.c.key).where(held_work.c.owner.in_(alive))
        query = select(test_runs).where(test_runs.c.status == "running", test_runs.c.run_key.not_in(held))
        async with self._engine.connect() as conn:
            return [_run(r) for r in (await conn.execute(query)).mappings()]

    async def mark_lost(self, run_key: str, at: datetime, reason: str) -> bool:
        """`running` → `lost`, True for exactly one caller (of several replicas reconciling at once)."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                update(test_runs)
                .where(test_runs.c.run_key == run_key, test_runs.c.status == "running")
                .values(status="lost", error=reason, ended_at=at)
            )
        return result.rowcount == 1

    async def result(self, run_key: str, unique_id: str) -> StoredTest | None:
        query = select(test_results).where(
            test_results.c.run_key == run_key, test_results.c.unique_id == unique_id
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        return None if row is None else _stored(row)

    async def failed_of(self, run_key: str) -> list[StoredTest]:
        query = (
            select(test_results)
            .where(test_results.c.run_key == run_key, test_results.c.status.in_(FAILED))
            .order_by(test_results.c.name)
        )
        async with self._engine.connect() as conn:
            return [_stored(r) for r in (await conn.execute(query)).mappings()]

    async def failed_since(self, since: datetime, *, until: datetime | None = None) -> list[StoredTest]:
        """Tests that failed or errored in invocations that ended in [since, until), oldest first.
        A watermark-based digest passes its last watermark as `since`, so nothing is lost."""
        return await self.results_since(since, until=until, statuses=FAILED)

    async def results_since(
        self, since: datetime, *, until: datetime | None = None, statuses: tuple[str, ...] | None = None
    ) -> list[StoredTest]:
        """Results (of any status, or of `statuses`) of invocations that ended in [since, until), oldest
        first: the failure watcher reads a test's newest one to open or resolve its incident."""
        query = select(test_results).where(test_results.c.at >= since)
        if statuses is not None:
            query = query.where(test_results.c.status.in_(statuses))
        if until is not None:
            query = query.where(test_results.c.at < until)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query.order_by(test_results.c.at, test_results.c.name))).mappings()
            return [_stored(r) for r in rows]

    async def latest(self, unique_ids: Sequence[str] | None = None) -> list[StoredTest]:
        """The most recent stored result of each test (of `unique_ids`, or of every test), by name."""
        r = test_results.c
        newest = select(r.unique_id, func.max(r.at).label("at")).group_by(r.unique_id)
        if unique_ids is not None:
            newest = newest.where(r.unique_id.in_(list(unique_ids)))
        last = newest.subquery()
        query = select(test_results).join(last, (r.unique_id == last.c.unique_id) & (r.at == last.c.at))
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query.order_by(r.name))).mappings()
            latest = {row["unique_id"]: _stored(row) for row in rows}  # one per test if two share `at`
        return sorted(latest.values(), key=lambda t: t.name)


def _result_row(run: TestRun, invocation: DbtInvocation, o: TestOutcome, owner: str | None) -> dict[str, Any]:
    failing = o.status != "pass"
    relation = o.failures_relation
    return {
        "run_key": run.run_key,
        "unique_id": o.unique_id,
        "invocation_id": invocation.invocation_id,
        "name": o.name,
        "status": o.status,
        "failures": o.failures,
        "model": o.model,
        "owner": owner,
        "column_name": o.column,
        "severity": o.severity,
        "execution_time": o.execution_time,
        "message": o.message,
        "compiled_code": o.compiled_code if failing else None,  # 10,000 passing queries help nobody
        "failures_relation": None if relation is None else relation.__dict__,
        "requested_by": run.requested_by,
        "at": invocation.ended_at,
    }


def _run(row: RowMapping) -> TestRun:
    return TestRun(**{k: row[k] for k in TestRun.__dataclass_fields__})


def _stored(row: RowMapping) -> StoredTest:
    relation = row["failures_relation"]
    return StoredTest(
        **{k: row[k] for k in StoredTest.__dataclass_fields__ if k not in ("column", "failures_relation")},
        column=row["column_name"],
        failures_relation=None if relation is None else Relation(**relation),
    )
