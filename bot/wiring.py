"""`build_backends(settings)`: the only place adapters are chosen and constructed.

Adapters are imported in the branch that picks them: the Snowflake connector and the Google
clients take seconds to import and the embedded default never needs them.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

from bot.backends.state_leases import Leases
from bot.backends.state_sql import SqlState
from bot.catalog import Catalog, CatalogMissing
from bot.ports import DbtRunner, Orchestrator, Warehouse
from bot.rbac import Policy
from bot.settings import Settings
from bot.stats import StatsService

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

    async def reload_catalog(self) -> bool:
        """Pick up a new dbt manifest (a deploy, `dbt parse`) without a restart, when the file changed.
        A manifest that does not load (half copied) keeps the last catalog; the next check retries."""
        path = self.settings.manifest_path
        stamp = await asyncio.to_thread(_stamp, path)
        if stamp is None or stamp == self.manifest_stamp:
            return False
        try:
            catalog = await asyncio.to_thread(Catalog.load, path, self.settings.owners)
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


def build_warehouse(settings: Settings) -> Warehouse:
    if settings.warehouse == "snowflake":
        from bot.backends.snowflake import SnowflakeWarehouse

        return SnowflakeWarehouse(settings)
    from bot.backends.duckdb import DuckDBWarehouse

    return DuckDBWarehouse(settings.warehouse_path)


def build_orchestrator(settings: Settings) -> Orchestrator:
    if settings.orchestrator == "airflow":
        from bot.backends.airflow import AirflowOrchestrator

        return AirflowOrchestrator.from_settings(settings)
    if settings.orchestrator == "composer":
        from bot.backends.composer import ComposerOrchestrator

        return ComposerOrchestrator.from_settings(settings)
    from bot.backends.local_runner import LocalRunner

    return LocalRunner(settings)


async def build_backends(settings: Settings, *, warehouse: Warehouse | None = None) -> Backends:
    """Construct every adapter and bring the state schema up to date. `warehouse` lets tests and
    benchmarks wrap the real adapter (e.g. to make it slow) without a second wiring path."""
    from bot.backends.dbt_cli import DbtCliRunner

    state = SqlState(settings.state_dsn)
    await state.migrate()
    leases = Leases(state.engine, ttl_s=settings.lease_ttl_s, poll_s=settings.cancel_poll_s)
    await leases.start()
    chosen = warehouse or build_warehouse(settings)
    stamp = _stamp(settings.manifest_path)  # before loading: a change in between is seen next check
    return Backends(
        settings=settings,
        catalog=Catalog.load(settings.manifest_path, settings.owners),
        warehouse=chosen,
        orchestrator=build_orchestrator(settings),
        dbt=DbtCliRunner(settings, leases),
        state=state,
        stats=StatsService(chosen, settings.stats_cache_ttl_s),
        policy=Policy(settings.access, settings.admins, settings.groups),
        leases=leases,
        manifest_stamp=stamp,
    )


def _stamp(path: Path) -> Stamp | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_mtime_ns, stat.st_size
