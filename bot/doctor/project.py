"""The team's dbt project: its profile resolves, the project parses, dbt connects with the profile
(`dbt debug`), and its manifest loads as the bot's catalog."""

from __future__ import annotations

import tempfile
from pathlib import Path

from bot.adapters.dbt.cli import run_project_dbt
from bot.adapters.dbt.project import open_project
from bot.doctor.checks import Finding, fail, first_line, ok
from bot.foundation.catalog import Catalog, CatalogMissing
from bot.foundation.entity_selection import EntitySelectorError
from bot.foundation.errors import ProjectError
from bot.foundation.settings import Settings

CHECK = "dbt"
_PROBE = ["show", "--inline", "select 1 as ok", "--limit", "1"]


async def resolved(settings: Settings) -> tuple[Settings, str | None]:
    """The settings as the bot starts with them (the profile's warehouse filled in), or why not."""
    try:
        return await open_project(settings), None
    except ProjectError as exc:
        return settings, str(exc)


def load_catalog(settings: Settings) -> tuple[Catalog | None, str | None]:
    try:
        return Catalog.load(settings.manifest_path, settings.owners, settings.entities), None
    except (CatalogMissing, EntitySelectorError, OSError, ValueError, KeyError) as exc:
        return None, first_line(exc)


async def check_dbt(
    settings: Settings, problem: str | None, catalog: Catalog | None, catalog_problem: str | None
) -> Finding:
    where = settings.dbt_project_dir
    if problem is not None:
        return fail(CHECK, problem, "fix the profile in AMD_DBT_PROFILES_DIR (or DBT_PROFILES_DIR)")
    if settings.warehouse == "duckdb" and not settings.warehouse_path.exists():
        # `dbt debug` would create an empty database there instead of saying it is missing.
        return fail(
            CHECK,
            f"the profile's DuckDB file {settings.warehouse_path} does not exist",
            "build the project (`amd-bot demo build` for the demo) or fix the profile's `path`",
        )
    with tempfile.TemporaryDirectory(prefix="amd-doctor-") as scratch:
        # One invocation parses the project, renders the profile and runs a query through it (what
        # `dbt debug` checks, but `dbt debug` takes no target path, and the project's must stay as is).
        proc = await run_project_dbt(
            settings, _PROBE, target_path=Path(scratch, "target"), log_path=Path(scratch, "logs")
        )
    if proc.exit_code != 0:
        why = (proc.error or f"exit code {proc.exit_code}").strip().split("\n", 1)[0]
        return fail(
            CHECK,
            f"dbt on {where} with its profile failed: {why}",
            f"run `dbt show --inline 'select 1' --project-dir {where}` and fix what it reports "
            "(the project, or the profile's credentials and host)",
        )
    if catalog is None:
        return fail(
            CHECK,
            f"project {where} parses, but the manifest does not load: {catalog_problem}",
            f"run `dbt parse` (it writes {settings.manifest_path}) or fix AMD_DBT_MANIFEST / AMD_ENTITIES",
        )
    return ok(CHECK, f"project {where.name} parses, profile connects, {len(catalog.entities)} entities")
