"""A DuckDB warehouse (the demo's, or a team project's): a file that dbt builds and the bot reads.

DuckDB allows one writing process per file and a writer excludes readers, so every call opens a
short-lived read-only connection (a long-lived one would block `dbt run`) and waits politely while
dbt holds the lock.
"""

from __future__ import annotations

import asyncio
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


class DuckDBWarehouse:
    def __init__(self, path: Path, *, busy_timeout_s: float = 10.0) -> None:
        self.path = path
        self.busy_timeout_s = busy_timeout_s
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

    async def _query(self, sql: str, params: Sequence[Any]) -> tuple[list[str], list[tuple[Any, ...]]]:
        self.queries += 1
        return await asyncio.to_thread(self._run, sql, params)

    def _run(self, sql: str, params: Sequence[Any]) -> tuple[list[str], list[tuple[Any, ...]]]:
        deadline = time.monotonic() + self.busy_timeout_s
        delay = 0.05
        while True:
            try:
                with duckdb.connect(str(self.path), read_only=True) as con:
                    con.execute("SET TimeZone = 'UTC'")  # so CAST(timestamptz AS DATE) is a UTC day
                    cursor = con.execute(sql, list(params))
                    columns = [d[0] for d in cursor.description or ()]
                    return columns, cursor.fetchall()
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
