"""What a handler reaches through `ctx.backends`: every adapter behind its port, the catalog and the
bot's own state. Built in one place only (`bot/wiring.py`)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path

from bot.core.access import Policy
from bot.core.stats import StatsService
from bot.foundation.catalog import Catalog, CatalogMissing
from bot.foundation.dbt_port import DbtRunner
from bot.foundation.inflight import InFlight
from bot.foundation.ports import Orchestrator, Warehouse
from bot.foundation.run_results import RunResults
from bot.foundation.settings import Settings
from bot.state.leases import Leases
from bot.state.store import SqlState

log = logging.getLogger(__name__)
Stamp = tuple[int, int]  # the manifest file's (mtime in ns, size): cheap to read every minute


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
    leases: Leases
    manifest_stamp: Stamp | None = None
    run_results: RunResults | None = None  # dbt results of orchestrator runs: only when a dir is configured
    # Slack requests acked and still being answered (commands, presses, forms, events): a stop waits.
    answering: InFlight = field(default_factory=InFlight)

    async def reload_catalog(self) -> bool:
        """Pick up a new dbt manifest (a deploy, `dbt parse`) without a restart, when the file changed.
        A manifest that does not load (half copied) keeps the last catalog; the next check retries."""
        path = self.settings.manifest_path
        stamp = await asyncio.to_thread(manifest_stamp, path)
        if stamp is None or stamp == self.manifest_stamp:
            return False
        try:
            catalog = await asyncio.to_thread(
                Catalog.load, path, self.settings.owners, self.settings.entities
            )
        except (CatalogMissing, ValueError, KeyError) as exc:
            log.warning("dbt manifest %s changed but does not load (%s); keeping the last one", path, exc)
            return False
        self.catalog, self.manifest_stamp = catalog, stamp
        return True

    async def close(self) -> None:
        await self.orchestrator.close()
        await self.warehouse.close()
        await self.leases.close()
        await self.state.close()


def manifest_stamp(path: Path) -> Stamp | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_mtime_ns, stat.st_size
