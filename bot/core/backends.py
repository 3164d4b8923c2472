"""What a handler reaches through `ctx.backends`: every adapter behind its port, the catalog and the
bot's own state. Built in one place only (`bot/wiring.py`)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.access import Policy
from bot.core.stats import StatsService
from bot.foundation.catalog import Catalog
from bot.foundation.ports import DbtRunner, Orchestrator, Warehouse
from bot.foundation.settings import Settings
from bot.state.store import SqlState


@dataclass
class Backends:
    settings: Settings
    catalog: Catalog
    warehouse: Warehouse
    orchestrator: Orchestrator
    dbt: DbtRunner
    state: SqlState
    stats: StatsService
    policy: Policy

    def reload_catalog(self) -> None:
        """Pick up a new dbt manifest (after a deploy or `dbt parse`) without a restart."""
        self.catalog = Catalog.load(self.settings.manifest_path, self.settings.owners, self.settings.entities)

    async def close(self) -> None:
        await self.orchestrator.close()
        await self.warehouse.close()
        await self.state.close()
