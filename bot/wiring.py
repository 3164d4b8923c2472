"""`build_backends(settings)`: the only place adapters are chosen and constructed.

Adapters are imported in the branch that picks them: the Snowflake connector and the Google
clients take seconds to import and the embedded default never needs them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bot.core.access import Policy
from bot.core.backends import Backends, manifest_stamp
from bot.core.metered import metered
from bot.core.stats import StatsService
from bot.foundation.catalog import Catalog
from bot.foundation.errors import ConfigError
from bot.foundation.metrics import meter_engine
from bot.foundation.ports import Orchestrator, Warehouse
from bot.foundation.settings import Settings
from bot.foundation.settings_rules import snowflake_missing
from bot.state.leases import Leases
from bot.state.store import SqlState

Progress = Callable[[str, float], None]


def build_warehouse(settings: Settings) -> Warehouse:
    if settings.warehouse == "snowflake":
        from bot.adapters.warehouse.snowflake import SnowflakeWarehouse

        # Checked here, after the dbt profile filled in what it has: the settings alone cannot tell.
        if missing := snowflake_missing(settings):
            raise ConfigError(
                [f"AMD_WAREHOUSE=snowflake needs {', '.join(missing)} (or a dbt profile with them)"]
            )

        return SnowflakeWarehouse(settings)
    from bot.adapters.warehouse.duckdb import DuckDBWarehouse

    return DuckDBWarehouse(settings.warehouse_path, timeout_s=settings.duckdb_timeout_s)


def build_orchestrator(settings: Settings) -> Orchestrator:
    if settings.orchestrator == "airflow":
        from bot.adapters.orchestrator.airflow import AirflowOrchestrator

        return AirflowOrchestrator.from_settings(settings)
    if settings.orchestrator == "composer":
        from bot.adapters.orchestrator.composer import ComposerOrchestrator

        return ComposerOrchestrator.from_settings(settings)
    from bot.adapters.orchestrator.local_runner import LocalRunner

    return LocalRunner(settings)


async def build_backends(
    settings: Settings, *, warehouse: Warehouse | None = None, progress: Progress | None = None
) -> Backends:
    """Construct every adapter and bring the state schema up to date. `warehouse` lets tests and
    benchmarks wrap the real adapter (e.g. to make it slow) without a second wiring path.

    The team's own dbt project is opened first: its profile may choose the warehouse, and its
    manifest may need a `dbt parse` (reported through `progress`)."""
    from bot.adapters.dbt.build_log import BuildLog
    from bot.adapters.dbt.cli import DbtCliRunner
    from bot.adapters.dbt.project import open_project
    from bot.adapters.dbt.results_dir import ResultsDir
    from commands.ask import learned  # scikit-learn takes a second to import: only when the bot starts

    # The help channels' learned model trains in a thread while the project opens: never on the loop,
    # and no thread is left behind when the project cannot be opened.
    learning = asyncio.ensure_future(asyncio.to_thread(learned.prepare))
    try:
        settings = await open_project(settings, progress=progress)
    finally:
        await learning
    stamp = manifest_stamp(settings.manifest_path)  # before loading: a change in between is seen next check
    catalog = Catalog.load(settings.manifest_path, settings.owners, settings.entities)
    state = SqlState(settings.state_dsn)
    meter_engine(state.engine.sync_engine)
    await state.migrate()
    leases = Leases(state.engine, ttl_s=settings.lease_ttl_s, poll_s=settings.cancel_poll_s)
    await leases.start()
    chosen = metered(warehouse or build_warehouse(settings), "warehouse")
    orchestrator = metered(build_orchestrator(settings), "orchestrator")
    return Backends(
        settings=settings,
        catalog=catalog,
        warehouse=chosen,
        orchestrator=orchestrator,
        dbt=metered(DbtCliRunner(settings, leases), "dbt"),
        state=state,
        stats=StatsService(chosen, settings.stats_cache_ttl_s, builds=BuildLog(settings, orchestrator)),
        policy=Policy(settings.access, settings.admins, settings.groups),
        leases=leases,
        manifest_stamp=stamp,
        run_results=metered(
            ResultsDir(
                settings.dbt_results_dir,
                max_mb=settings.dbt_results_max_mb,
                timeout_s=settings.dbt_results_timeout_s,
            ),
            "dbt results",
        )
        if settings.dbt_results_dir
        else None,
    )
