"""`build_backends(settings)`: the only place adapters are chosen and constructed.

Adapters are imported in the branch that picks them: the Snowflake connector and the Google
clients take seconds to import and the embedded default never needs them.
"""

from __future__ import annotations

from bot.core.access import Policy
from bot.core.backends import Backends
from bot.core.stats import StatsService
from bot.foundation.catalog import Catalog
from bot.foundation.ports import Orchestrator, Warehouse
from bot.foundation.settings import Settings
from bot.state.store import SqlState


def build_warehouse(settings: Settings) -> Warehouse:
    if settings.warehouse == "snowflake":
        from bot.adapters.warehouse.snowflake import SnowflakeWarehouse

        return SnowflakeWarehouse(settings)
    from bot.adapters.warehouse.duckdb import DuckDBWarehouse

    return DuckDBWarehouse(settings.warehouse_path)


def build_orchestrator(settings: Settings) -> Orchestrator:
    if settings.orchestrator == "airflow":
        from bot.adapters.orchestrator.airflow import AirflowOrchestrator

        return AirflowOrchestrator.from_settings(settings)
    if settings.orchestrator == "composer":
        from bot.adapters.orchestrator.composer import ComposerOrchestrator

        return ComposerOrchestrator.from_settings(settings)
    from bot.adapters.orchestrator.local_runner import LocalRunner

    return LocalRunner(settings)


async def build_backends(settings: Settings, *, warehouse: Warehouse | None = None) -> Backends:
    """Construct every adapter and bring the state schema up to date. `warehouse` lets tests and
    benchmarks wrap the real adapter (e.g. to make it slow) without a second wiring path."""
    from bot.adapters.dbt.cli import DbtCliRunner

    state = SqlState(settings.state_dsn)
    await state.migrate()
    chosen = warehouse or build_warehouse(settings)
    return Backends(
        settings=settings,
        catalog=Catalog.load(settings.manifest_path, settings.owners),
        warehouse=chosen,
        orchestrator=build_orchestrator(settings),
        dbt=DbtCliRunner(settings),
        state=state,
        stats=StatsService(chosen, settings.stats_cache_ttl_s),
        policy=Policy(settings.access, settings.admins, settings.groups),
    )
