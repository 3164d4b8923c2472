"""Small, consistent formatting of numbers, ages, times and error reasons for every view."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta


def count(n: int) -> str:
    return f"{n:,}"


def counted(n: int, noun: str) -> str:
    """`1 task`, `2 tasks`, `1,000 open incidents`: English plurals of regular nouns."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def age(delta: timedelta | None) -> str:
    if delta is None:
        return "never"
    seconds = int(delta.total_seconds())
    if seconds < 0:
        return "in the future"
    if seconds < 60:
        return f"{seconds} s"
    minutes, _ = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def when(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def hours(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:g} h"


def check(ok: bool | None) -> str:
    return {True: ":white_check_mark:", False: ":x:", None: "—"}[ok]


# What a database's error says around its reason: where in the query (DuckDB and PostgreSQL print the line
# and a caret under it), and guesses at what was meant.
_AROUND = re.compile(r"^(?:[\s^~]*|LINE \d+:.*|Did you mean .*|HINT:.*)$")


def reason(message: str | None, *, default: str = "see the dbt log") -> str:
    """The line of a (dbt, warehouse) error message that says why: its last, less the query excerpt
    and hints DuckDB and PostgreSQL print after it ("Catalog Error: Table with name x does not exist!")."""
    lines = [line.strip() for line in (message or "").splitlines()]
    said = [line for line in lines if line and not _AROUND.match(line)]
    return said[-1] if said else default
