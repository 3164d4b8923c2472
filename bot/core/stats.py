"""Entity statistics with freshness against SLA, shared by `/amd stats`, digests and help answers.

Cost matters on Snowflake: all entities are read in ONE query, answers are cached for a TTL, and
concurrent askers share the query already in flight instead of starting their own.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.foundation.catalog import Entity
from bot.foundation.ports import EntityStats, Warehouse


@dataclass(frozen=True)
class EntityStatus:
    entity: Entity
    rows: int
    last_loaded_at: datetime | None
    as_of: datetime

    @property
    def age(self) -> timedelta | None:
        return None if self.last_loaded_at is None else self.as_of - self.last_loaded_at

    @property
    def fresh(self) -> bool | None:
        """None when there is no SLA to judge by; an empty table is never fresh."""
        sla = self.entity.freshness_sla_hours
        if sla is None:
            return None
        return self.age is not None and self.age <= timedelta(hours=sla)


class StatsService:
    def __init__(
        self, warehouse: Warehouse, ttl_s: float, *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.warehouse = warehouse
        self.ttl_s = ttl_s
        self._monotonic = monotonic
        self._cached: dict[tuple[str, ...], tuple[float, asyncio.Task[list[EntityStatus]]]] = {}

    async def status(self, entities: Sequence[Entity]) -> list[EntityStatus]:
        key = tuple(sorted(e.name for e in entities))
        now = self._monotonic()
        hit = self._cached.get(key)
        if hit is None or now - hit[0] > self.ttl_s or (hit[1].done() and hit[1].exception()):
            task = asyncio.create_task(self._fetch(entities))
            self._cached[key] = (now, task)
            hit = (now, task)
        return await asyncio.shield(hit[1])

    def invalidate(self) -> None:
        self._cached.clear()

    async def _fetch(self, entities: Sequence[Entity]) -> list[EntityStatus]:
        stats = await self.warehouse.entity_stats([e.stats_query for e in entities])
        as_of = datetime.now(UTC)
        by_name: dict[str, EntityStats] = {s.entity: s for s in stats}
        return [
            EntityStatus(e, by_name[e.name].rows, by_name[e.name].last_loaded_at, as_of)
            for e in sorted(entities, key=lambda e: e.name)
            if e.name in by_name
        ]
