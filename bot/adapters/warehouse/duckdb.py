"""A DuckDB warehouse (the demo's, or a team project's): a file that dbt builds and the bot reads.

DuckDB allows one writing process per file and a writer excludes readers, so every call opens a
short-lived read-only connection (a long-lived one would block `dbt run`) and waits politely while
dbt holds the lock. A query still running at its time limit is interrupted: its thread would
otherwise go on for as long as the query does.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb

from bot.adapters.warehouse.sql import (
    as_utc,
    count_sql,
    qualified,
    stats_sql,
    volume_sql,
    volume_window,
    zero_filled,
)
from bot.foundation.ports import BackendUnavailable, DailyVolume, EntityStats, Relation, Rows, StatsQuery

_LOCK_CONFLICT = "Could not set lock on file"
Result = tuple[list[str], list[tuple[Any, ...]]]


class _Stoppable:
    """The connection of one query, so the event loop can interrupt it in its thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._con: duckdb.DuckDBPyConnection | None = None
        self.stopped = False

    def attach(self, con: duckdb.DuckDBPyConnection | None) -> None:
        with self._lock:
            if self.stopped and con is not None:
                con.interrupt()  # stopped before it began: its first statement fails at once
            self._con = con

    def stop(self) -> None:
        with self._lock:
            self.stopped = True
            if self._con is not None:
                self._con.interrupt()


class DuckDBWarehouse:
    def __init__(self, path: Path, *, busy_timeout_s: float = 10.0, timeout_s: float = 60.0) -> None:
        self.path = path
        self.busy_timeout_s = busy_timeout_s
        self.timeout_s = timeout_s
        self.queries = 0  # statements sent, so tests can check how much work a feature costs

    async def entity_stats(self, queries: Sequence[StatsQuery]) -> list[EntityStats]:
        if not queries:
            return []
        sql = stats_sql(queries)
        _, rows = await self._query(sql, [q.entity for q in queries])
        return [EntityStats(str(entity), int(count), as_utc(last)) for entity, count, last in rows]

    async def daily_volume(self, query: StatsQuery, days: int) -> list[DailyVolume]:
        sql = volume_sql(query)
        first, start = volume_window(days)
        _, rows = await self._query(sql, [start])
        return zero_filled(first, days, {day: int(count) for day, count in rows})

    async def sample_rows(self, relation: Relation, limit: int) -> Rows:
        sql = f"SELECT * FROM {qualified(relation)} LIMIT {int(limit)}"
        columns, rows = await self._query(sql, [])
        return Rows(tuple(columns), tuple(rows))

    async def count_rows(self, relation: Relation, group_by: str | None = None) -> dict[str, int]:
        _, rows = await self._query(count_sql(relation, group_by), [])
        return {"NULL" if key is None else str(key): int(count) for key, count in rows}

    async def close(self) -> None:
        """Nothing to release: connections live only as long as one call."""

    async def _query(self, sql: str, params: Sequence[Any]) -> Result:
        self.queries += 1
        query = _Stoppable()
        work = asyncio.ensure_future(asyncio.to_thread(self._run, sql, params, query))
        try:
            done, _ = await asyncio.wait({work}, timeout=self.timeout_s)
        except asyncio.CancelledError:
            query.stop()
            work.add_done_callback(_discard)  # nobody is left to read its InterruptException
            raise
        if not done:
            query.stop()
            await asyncio.wait({work})  # an interrupted query ends at once
            if work.exception() is not None:
                raise BackendUnavailable(
                    f"the warehouse query did not finish within {self.timeout_s:g} s and was stopped "
                    "(AMD_DUCKDB_TIMEOUT_S)"
                )
        return work.result()

    def _run(self, sql: str, params: Sequence[Any], query: _Stoppable) -> Result:
        deadline = time.monotonic() + self.busy_timeout_s
        delay = 0.05
        while not query.stopped:
            try:
                with duckdb.connect(str(self.path), read_only=True) as con:
                    query.attach(con)
                    try:
                        con.execute("SET TimeZone = 'UTC'")  # so CAST(timestamptz AS DATE) is a UTC day
                        cursor = con.execute(sql, list(params))
                        columns = [d[0] for d in cursor.description or ()]
                        return columns, cursor.fetchall()
                    finally:
                        query.attach(None)
            except duckdb.IOException as exc:
                if _LOCK_CONFLICT not in str(exc):
                    raise BackendUnavailable(f"the warehouse file {self.path} cannot be opened") from exc
                if time.monotonic() + delay > deadline:
                    raise BackendUnavailable(
                        f"the DuckDB warehouse {self.path.name} is busy with a dbt run (it held the file "
                        f"for more than {self.busy_timeout_s:g} s); try again in a few seconds"
                    ) from exc
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
        raise BackendUnavailable("the warehouse query was stopped")


def _discard(task: asyncio.Future[Result]) -> None:
    task.exception()
