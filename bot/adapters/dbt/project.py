"""Opening the team's own dbt project from `AMD_DBT_PROJECT_DIR` alone.

The warehouse connection comes from the project's dbt profile (profiles.py), so credentials are not
configured twice; a setting given explicitly (AMD_WAREHOUSE, AMD_DUCKDB_PATH, AMD_SNOWFLAKE_*) still
wins. The manifest is the project's target/manifest.json, re-made with `dbt parse` when it is missing
or older than the project's files. The demo project is left alone: its world builds its own.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bot.adapters.dbt.cli import dbt_env, run_project_dbt
from bot.adapters.dbt.profiles import ProfileError, read_target, warehouse_settings
from bot.foundation.errors import ProjectError
from bot.foundation.settings import Settings

log = logging.getLogger(__name__)

Progress = Callable[[str, float], None]
_SOURCES = frozenset({".sql", ".yml", ".yaml", ".csv", ".py", ".md"})  # what `dbt parse` reads
_NOT_SOURCES = frozenset({"target", "logs", "venv", "node_modules", "__pycache__"})


async def open_project(settings: Settings, *, progress: Progress | None = None) -> Settings:
    """The settings with the profile's warehouse filled in, once the project's manifest is current."""
    if settings.uses_demo_project:
        return settings
    settings = await asyncio.to_thread(with_profile, settings)
    if settings.dbt_manifest is None and await asyncio.to_thread(manifest_is_stale, settings):
        await parse(settings, progress)
    return settings


def with_profile(settings: Settings) -> Settings:
    explicit = {name for name in settings.model_fields_set if getattr(settings, name) is not None}
    # The profile is rendered with the environment the dbt subprocess gets (cli.run_project_dbt).
    environ = {**os.environ, **dbt_env(settings)}
    try:
        target = read_target(settings.dbt_project_dir, settings.profiles_dir, settings.dbt_target, environ)
        found = warehouse_settings(target, settings.dbt_project_dir)
    except ProfileError as exc:
        if _configured_without_profile(settings, explicit):
            log.info("dbt profile not used for the warehouse: %s", exc)
            return settings
        raise ProjectError(f"cannot connect to the project's warehouse: {exc}") from None
    if "warehouse" in explicit and found["warehouse"] != settings.warehouse:
        return settings  # AMD_WAREHOUSE chose another warehouse: its AMD_* settings describe it
    update: dict[str, Any] = {k: v for k, v in found.items() if k not in explicit}
    log.info("warehouse from %s: %s", target.where(), sorted(update))  # names only, never values
    return settings.model_copy(update=update)


def _configured_without_profile(settings: Settings, explicit: set[str]) -> bool:
    if settings.warehouse == "duckdb":
        return "duckdb_path" in explicit
    return "snowflake_account" in explicit


def manifest_is_stale(settings: Settings) -> bool:
    try:
        built = settings.manifest_path.stat().st_mtime
    except FileNotFoundError:
        return True
    inputs = [*_project_files(settings.dbt_project_dir), settings.profiles_dir / "profiles.yml"]
    return any(path.exists() and path.stat().st_mtime > built for path in inputs)


def _project_files(root: Path) -> Iterator[Path]:
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in _NOT_SOURCES and not d.startswith(".")]
        for name in files:
            if Path(name).suffix in _SOURCES:
                yield Path(folder) / name


async def parse(settings: Settings, progress: Progress | None) -> None:
    if progress is not None:
        progress(f"dbt parse of {settings.dbt_project_dir.name}", 0.1)
    manifest = settings.manifest_path
    proc = await run_project_dbt(
        settings, ["parse"], target_path=manifest.parent, log_path=settings.home / "dbt" / "logs" / "parse"
    )
    if proc.exit_code != 0 or not manifest.exists():
        raise ProjectError(f"`dbt parse` of {settings.dbt_project_dir} failed: {proc.error}")
    if progress is not None:
        progress("dbt project parsed", 1.0)
