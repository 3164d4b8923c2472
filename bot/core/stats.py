"""Entity statistics with freshness against SLA, shared by `/amd stats`, digests and help answers.

Cost matters on Snowflake: all entities are read in ONE query, answers are cached for a TTL, and
concurrent askers share the query already in flight instead of starting their own.

Freshness only from facts. The last load is, in order: the newest value of the entity's load column
(`meta.loaded_at_field`); its last successful build (dbt's run_results of the project, of the bot's own
runs, and the orchestrator's runs of its DAG); the warehouse's own last-altered time of the table.
Where none is known the freshness is unknown, and the status says why.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol

from bot.foundation.catalog import Entity
from bot.foundation.ports import DailyVolume, EntityStats, Warehouse
from bot.state.freshness import Sample

LoadSource = Literal["load column", "last build", "last altered"]


class BuildLog(Protocol):
    async def last_builds(self, entities: Sequence[Entity]) -> Mapping[str, datetime]:
        """When each entity (by name) was last built successfully, where that is on record."""


@dataclass(frozen=True)
class EntityStatus:
    entity: Entity
    rows: int
    last_loaded_at: datetime | None
    as_of: datetime
    source: LoadSource | None = None  # where last_loaded_at comes from

    @property
    def age(self) -> timedelta | None:
        return None if self.last_loaded_at is None else self.as_of - self.last_loaded_at

    @property
    def fresh(self) -> bool | None:
        """None when there is no SLA to judge by, or no last load is known (see `unknown_reason`)."""
        sla = self.entity.freshness_sla_hours
        if sla is None or self.age is None:
            return None
        return self.age <= timedelta(hours=sla)

    @property
    def stale_since(self) -> datetime | None:
        """When the last load fell out of its SLA, for a stale entity: no load has come since, so the
        moment is known from now's facts alone."""
        sla = self.entity.freshness_sla_hours
        if self.fresh is not False or sla is None or self.last_loaded_at is None:
            return None
        return self.last_loaded_at + timedelta(hours=sla)

    @property
    def unknown_reason(self) -> str | None:
        if self.last_loaded_at is not None:
            return None
        if self.entity.load_column:
            return f"`{self.entity.load_column}` has no value and no successful build is on record"
        return "no load column (`meta.loaded_at_field`) and no successful build on record"


class StatsService:
    def __init__(
        self,
        warehouse: Warehouse,
        ttl_s: float,
        *,
        builds: BuildLog | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.warehouse = warehouse
        self.ttl_s = ttl_s
        self.builds = builds
        self._monotonic = monotonic
        self._cached: dict[tuple[str, ...], tuple[float, asyncio.Task[list[EntityStatus]]]] = {}
        self._volumes: dict[tuple[str, int], tuple[float, asyncio.Task[list[DailyVolume]]]] = {}

    async def status(self, entities: Sequence[Entity]) -> list[EntityStatus]:
        key = tuple(sorted(e.name for e in entities))
        now = self._monotonic()
        hit = self._cached.get(key)
        if hit is None or now - hit[0] > self.ttl_s or (hit[1].done() and hit[1].exception()):
            task = asyncio.create_task(self._fetch(entities))
            self._cached[key] = (now, task)
            hit = (now, task)
        return await asyncio.shield(hit[1])

    async def daily_volume(self, entity: Entity, days: int) -> list[DailyVolume]:
        """Rows per day of the entity's load column, cached for the TTL like `status`: a chart and every
        question about the entity's volume share one query."""
        key = (entity.name, days)
        now = self._monotonic()
        hit = self._volumes.get(key)
        if hit is None or now - hit[0] > self.ttl_s or (hit[1].done() and hit[1].exception()):
            hit = (now, asyncio.create_task(self.warehouse.daily_volume(entity.stats_query, days)))
            self._volumes[key] = hit
        return await asyncio.shield(hit[1])

    def invalidate(self) -> None:
        self._cached.clear()
        self._volumes.clear()

    async def _fetch(self, entities: Sequence[Entity]) -> list[EntityStatus]:
        stats = await self.warehouse.entity_stats([e.stats_query for e in entities])
        by_name: dict[str, EntityStats] = {s.entity: s for s in stats}
        # Builds are looked up only where the load column told nothing: it may cost an orchestrator call.
        loaded = {name for name, found in by_name.items() if found.last_loaded_at}
        unloaded = [e for e in entities if e.name in by_name and not (e.load_column and e.name in loaded)]
        builds = await self.builds.last_builds(unloaded) if self.builds and unloaded else {}
        as_of = datetime.now(UTC)
        return [
            _status(e, by_name[e.name], builds.get(e.name), as_of)
            for e in sorted(entities, key=lambda e: e.name)
            if e.name in by_name
        ]


def _status(entity: Entity, stats: EntityStats, built: datetime | None, as_of: datetime) -> EntityStatus:
    facts: list[tuple[datetime | None, LoadSource]] = [
        # Only a load column gives a load time; the NULL the adapters select for the others is no fact
        # (fakesnow's server even returns it as 1970).
        (stats.last_loaded_at if entity.load_column else None, "load column"),
        (built, "last build"),
        (stats.last_altered, "last altered"),
    ]
    for moment, source in facts:
        if moment is not None:
            return EntityStatus(entity, stats.rows, moment, as_of, source)
    return EntityStatus(entity, stats.rows, None, as_of)


def samples(statuses: Sequence[EntityStatus], now: datetime) -> list[Sample]:
    """What the freshness history keeps of one look at every entity (bot/state/freshness.py)."""
    return [
        Sample(s.entity.name, now, s.last_loaded_at, s.fresh, s.entity.freshness_sla_hours) for s in statuses
    ]
