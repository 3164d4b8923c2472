"""Freshness as the failure watcher saw it, sweep by sweep: what "was payment fresh at 6 this morning?"
is answered from. Only observations are kept — the present is never passed off as the past — and the
housekeeping prunes them with the other records (AMD_RETENTION_DAYS).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Boolean, Column, Float, Row, String, Table, func, select, true
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.state.schema import UtcDateTime, metadata

freshness_samples = Table(
    "amd_freshness_samples",
    metadata,
    Column("entity", String(200), primary_key=True),
    Column("observed_at", UtcDateTime(), primary_key=True, index=True),
    Column("last_loaded_at", UtcDateTime(), nullable=True),  # None: the last load was unknown then
    Column("fresh", Boolean(), nullable=True),  # None: no SLA to judge by, or no last load known
    Column("sla_hours", Float(), nullable=True),
)


@dataclass(frozen=True)
class Sample:
    entity: str
    observed_at: datetime
    last_loaded_at: datetime | None
    fresh: bool | None
    sla_hours: float | None


class FreshnessHistory:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def record(self, samples: Sequence[Sample]) -> None:
        """Two replicas sweeping in the same instant record the same fact: a sample already there is
        kept rather than failing the sweep."""
        if not samples:
            return
        rows = [vars(s) for s in samples]
        dialect = postgresql if self._engine.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(freshness_samples).on_conflict_do_nothing()
        async with self._engine.begin() as conn:
            await conn.execute(statement, rows)

    async def at(self, entity: str, moment: datetime, *, within: timedelta) -> Sample | None:
        """The observation of `entity` nearest to `moment`, no further from it than `within`; None
        when the watcher did not look then."""
        c = freshness_samples.c
        near = c.observed_at.between(moment - within, moment + within)
        query = select(freshness_samples).where(c.entity == entity, near)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        if not rows:
            return None
        row = min(rows, key=lambda r: abs(r.observed_at - moment))
        return _sample(row)

    async def between(self, entity: str, start: datetime, end: datetime) -> list[Sample]:
        """Every observation of `entity` from `start` to `end`, oldest first."""
        c = freshness_samples.c
        query = (
            select(freshness_samples)
            .where(c.entity == entity, c.observed_at.between(start, end))
            .order_by(c.observed_at)
        )
        async with self._engine.connect() as conn:
            return [_sample(row) for row in (await conn.execute(query)).all()]

    async def streak(self, entity: str, fresh: bool | None = None) -> Streak | None:
        """The latest run of observations of `entity` judged alike, oldest and newest: the run going on
        now, or with `fresh` given, the latest run judged so. None when no such observation is kept."""
        c = freshness_samples.c
        newest = select(freshness_samples).where(c.entity == entity).order_by(c.observed_at.desc()).limit(1)
        if fresh is not None:
            newest = newest.where(c.fresh == fresh)
        async with self._engine.connect() as conn:
            last = (await conn.execute(newest)).first()
            if last is None:
                return None
            unlike = (
                (c.entity == entity)
                & (c.observed_at < last.observed_at)
                & c.fresh.is_distinct_from(last.fresh)
            )
            before = (await conn.execute(select(func.max(c.observed_at)).where(unlike))).scalar()
            alike = (c.entity == entity) & (c.observed_at > before if before is not None else true())
            first = (
                await conn.execute(select(freshness_samples).where(alike).order_by(c.observed_at).limit(1))
            ).one()
        return Streak(_sample(first), _sample(last), whole=before is not None)


@dataclass(frozen=True)
class Streak:
    first: Sample
    last: Sample
    whole: bool  # False: the run reaches back past the oldest observation kept, so it began before `first`


def _sample(row: Row[Any]) -> Sample:
    return Sample(row.entity, row.observed_at, row.last_loaded_at, row.fresh, row.sla_hours)
