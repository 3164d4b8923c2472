"""The SQL both warehouse adapters send: built only from catalog names (quoted) and numbers, so no
user text ever reaches it; values that vary go as bound parameters."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot.foundation.ports import DailyVolume, Relation, StatsQuery

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
