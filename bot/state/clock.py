"""The state store's own clock, for every age that replicas compare: a lease, a claim, a retry. Replicas'
clocks disagree (minutes, in the field); the database's is the one they all read, so "held for longer
than a minute" means the same to all of them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Interval, func, literal, type_coerce
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.elements import ColumnElement

from bot.state.schema import UtcDateTime


def db_now(engine: AsyncEngine) -> ColumnElement[Any]:
    """Now, as epoch seconds, by the database's clock."""
    if engine.dialect.name == "postgresql":
        return func.extract("epoch", func.now())
    return (func.julianday("now") - 2440587.5) * 86400.0


def db_time(engine: AsyncEngine, *, ago_s: float = 0.0) -> ColumnElement[Any]:
    """The database's now (less `ago_s`) as a value of a UtcDateTime column. On SQLite, in the very text
    SQLAlchemy stores a datetime as (microseconds included), so that it compares right with stored ones."""
    if engine.dialect.name == "postgresql":
        return func.now() - literal(timedelta(seconds=ago_s), Interval())
    stamp = func.strftime("%Y-%m-%d %H:%M:%f000", "now", f"{-float(ago_s)!r} seconds")
    return type_coerce(stamp, UtcDateTime())
