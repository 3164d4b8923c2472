"""The warehouse, the orchestrator, the state store and the ingest token, each as the bot uses it."""

from __future__ import annotations

import math
from collections import Counter

from bot.doctor.checks import Finding, fail, first_line, ok
from bot.foundation.catalog import Catalog
from bot.foundation.settings import Settings
from bot.state.store import SqlState
from bot.wiring import build_orchestrator, build_warehouse

_NO_CATALOG = "skipped: no catalog to check against (see the dbt line)"
_TOKEN_BITS = 128  # what `secrets.token_urlsafe(32)` gives twice over
_MAKE_TOKEN = "python -c 'import secrets; print(secrets.token_urlsafe(32))'"  # noqa: S105 - a recipe


async def check_warehouse(settings: Settings, catalog: Catalog | None) -> Finding:
    """One query per entity relation: each table the bot will count exists and can be read."""
    where = f"{settings.warehouse} {_warehouse_place(settings)}"
    if catalog is None:
        return fail("warehouse", f"{where}: {_NO_CATALOG}", "fix the dbt check first")
    warehouse = build_warehouse(settings)
    problems: dict[str, list[str]] = {}  # error -> the entities it stopped
    try:
        for entity in catalog.entities.values():
            try:
                await warehouse.count_rows(entity.relation)
            except Exception as exc:  # every failure is the finding: name the entity, say why
                problems.setdefault(first_line(exc), []).append(entity.name)
    finally:
        await warehouse.close()
    if problems:
        said = "; ".join(f"{', '.join(names)}: {error}" for error, names in problems.items())
        return fail(
            "warehouse",
            f"{where}: cannot read {said}",
            "build the models (`dbt build`), grant the bot's role SELECT on them, or fix the "
            "warehouse settings",
        )
    return ok("warehouse", f"{where}: all {len(catalog.entities)} entity relations readable")


async def check_orchestrator(settings: Settings, catalog: Catalog | None) -> Finding:
    """Reachable, authenticated, and it knows every DAG the catalog names."""
    if catalog is None:
        return fail("orchestrator", f"{settings.orchestrator}: {_NO_CATALOG}", "fix the dbt check first")
    orchestrator = build_orchestrator(settings)
    try:
        dags = set(await orchestrator.list_dags())
    except Exception as exc:
        return fail(
            "orchestrator", f"{orchestrator.environment}: {first_line(exc)}", _orchestrator_fix(settings)
        )
    finally:
        await orchestrator.close()
    if missing := sorted(set(catalog.dags()) - dags):
        return fail(
            "orchestrator",
            f"{orchestrator.environment}: the catalog's DAG(s) {', '.join(missing)} are not deployed",
            "deploy them (deploy/composer/dag_factory.py builds them from the dbt manifest)",
        )
    return ok("orchestrator", f"{orchestrator.environment}: reachable, lists all {len(catalog.dags())} DAGs")


async def check_state(settings: Settings) -> Finding:
    try:
        state = SqlState(settings.state_dsn)
    except Exception as exc:
        return fail("state store", first_line(exc), "fix AMD_STATE_URL")
    try:
        status = await state.schema_status()
    except Exception as exc:
        return fail(
            "state store", f"{state.where}: {first_line(exc)}", "check AMD_STATE_URL and the database"
        )
    finally:
        await state.close()
    if status.current == status.head:
        return ok("state store", f"{state.where}: schema up to date ({status.current})")
    if status.current is None:
        return ok("state store", f"{state.where}: empty; the first start creates the schema ({status.head})")
    if not status.known:
        return fail(
            "state store",
            f"{state.where}: schema {status.current} is newer than this amd-bot knows ({status.head})",
            "run the amd-bot version that migrated it (or newer)",
        )
    return fail(
        "state store",
        f"{state.where}: schema at {status.current}, this amd-bot needs {status.head}",
        "run `amd-bot db upgrade` (replicas also upgrade at start)",
    )


def check_ingest_token(settings: Settings) -> Finding:
    token = settings.migration_ingest_token
    if token is None:
        return ok("ingest token", "not set: the migration ingest API is off")
    bits = token_bits(token.get_secret_value())
    if bits < _TOKEN_BITS:
        return fail(
            "ingest token",
            f"AMD_MIGRATION_INGEST_TOKEN is weak (about {bits:.0f} bits, want {_TOKEN_BITS})",
            f"set a random one: {_MAKE_TOKEN}",
        )
    return ok("ingest token", f"strong enough (about {bits:.0f} bits)")


def token_bits(token: str) -> float:
    """Length × the Shannon entropy of its characters: repeats and small alphabets score low."""
    counts = Counter(token)
    per_char = -sum(n / len(token) * math.log2(n / len(token)) for n in counts.values())
    return len(token) * per_char


def _warehouse_place(settings: Settings) -> str:
    if settings.warehouse == "duckdb":
        return str(settings.warehouse_path)
    return f"account {settings.snowflake_account}"


def _orchestrator_fix(settings: Settings) -> str:
    if settings.orchestrator == "airflow":
        return "check AMD_AIRFLOW_URL (the webserver / API server) and AMD_AIRFLOW_USERNAME / PASSWORD"
    if settings.orchestrator == "composer":
        return "check AMD_COMPOSER_ENVIRONMENT and the service account's Composer User role"
    return "check AMD_DBT_PROJECT_DIR: the local runner builds its DAGs from the project's models"
