"""The demo warehouse: a DuckDB file that dbt subprocesses build and the bot reads.

DuckDB allows one writing process per file and a writer excludes readers, so every call opens a
short-lived read-only connection (a long-lived one would block `dbt run`) and waits politely while
dbt holds the lock.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from bot.ports import BackendUnavailable, DailyVolume, EntityStats, Relation, Rows, StatsQuery

_LOCK_CONFLICT = "Could not set lock on file"


Quote = Callable[[str], str]


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def qualified(relation: Relation, quote_ident: Quote = quote) -> str:
    parts = (relation.database, relation.schema, relation.name)
    return ".".join(quote_ident(part) for part in parts if part is not None)


def as_utc(value: Any) -> datetime | None:
    """Warehouse timestamps as aware UTC; naive ones are UTC by the loaders' convention."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    raise TypeError(f"not a timestamp: {value!r}")


def stats_sql(queries: Sequence[StatsQuery], quote_ident: Quote = quote) -> str:
    """One UNION ALL over all entities, with one `?` per entity name: names are bound, never spliced."""
    parts = []
    for query in queries:
        latest = "CAST(NULL AS TIMESTAMP)"
        if query.load_column:
            latest = f"MAX({quote_ident(query.load_column)})"
        parts.append(
            f"SELECT ? AS entity, COUNT(*) AS row_count, {latest} AS last_loaded_at "
            f"FROM {qualified(query.relation, quote_ident)}"
        )
    return "\nUNION ALL\n".join(parts)


def volume_sql(query: StatsQuery, quote_ident: Quote = quote) -> str:
    """Rows per UTC day since the one `?` parameter, the window's start."""
    if query.load_column is None:
        raise ValueError(f"{query.entity} has no load column to count by day")
    column = quote_ident(query.load_column)
    return (
        f"SELECT CAST({column} AS DATE) AS day, COUNT(*) FROM {qualified(query.relation, quote_ident)} "
        f"WHERE {column} >= ? GROUP BY 1"
    )


def count_sql(relation: Relation, group_by: str | None, quote_ident: Quote = quote) -> str:
    if group_by is None:
        return f"SELECT '' AS key, COUNT(*) FROM {qualified(relation, quote_ident)}"
    column = quote_ident(group_by)
    return f"SELECT CAST({column} AS VARCHAR), COUNT(*) FROM {qualified(relation, quote_ident)} GROUP BY 1"


def volume_window(days: int) -> tuple[date, datetime]:
    """The first day of the window (UTC) and its start as a naive UTC timestamp for binding."""
    first = datetime.now(UTC).date() - timedelta(days=days - 1)
    return first, datetime(first.year, first.month, first.day)


def zero_filled(first: date, days: int, counts: dict[date, int]) -> list[DailyVolume]:
    return [DailyVolume(day, counts.get(day, 0)) for day in (first + timedelta(days=i) for i in range(days))]


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
                        "the demo warehouse is busy with a dbt run; try again in a few seconds"
                    ) from exc
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
