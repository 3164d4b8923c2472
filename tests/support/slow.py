"""A real warehouse behind a fixed delay: for proving the ack never waits for the backend."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from bot.foundation.ports import DailyVolume, EntityStats, Relation, Rows, StatsQuery, Warehouse


class SlowWarehouse:
    def __init__(self, inner: Warehouse, delay_s: float) -> None:
        self.inner = inner
        self.delay_s = delay_s

    async def entity_stats(self, queries: Sequence[StatsQuery]) -> list[EntityStats]:
        await asyncio.sleep(self.delay_s)
        return await self.inner.entity_stats(queries)

    async def daily_volume(self, query: StatsQuery, days: int) -> list[DailyVolume]:
        await asyncio.sleep(self.delay_s)
        return await self.inner.daily_volume(query, days)

    async def sample_rows(self, relation: Relation, limit: int) -> Rows:
        return await self.inner.sample_rows(relation, limit)

    async def count_rows(self, relation: Relation, group_by: str | None = None) -> dict[str, int]:
        return await self.inner.count_rows(relation, group_by)

    async def close(self) -> None:
        await self.inner.close()
