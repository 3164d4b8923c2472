"""Build the embedded default's world once: generated events → `dbt run` → manifest.

The build goes into a scratch directory and is moved into place at the end, so a crashed build never
leaves a half world behind and a bot reading the old file is not disturbed. A marker file records what
was built and when; later starts reuse the world and return at once.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.adapters.dbt.artifacts import EventTracker
from bot.adapters.dbt.cli import run_dbt
from bot.adapters.dbt.gate import writer_lock
from bot.foundation.settings import Settings
from demo.events import SEED, write_events

# Bump whenever events.py or demo/dbt changes what the world contains.
DEMO_VERSION = "1"
PROJECT_DIR = Path(__file__).resolve().parent / "dbt"
# The data ends "now" at build time; an older world would show every entity as stale, not only the
# one that is stale on purpose (the shortest SLA of the others is 12 h).
MAX_AGE = timedelta(hours=6)

Progress = Callable[[str, float], None]


class DemoBuildError(RuntimeError):
    """dbt could not build the demo world; the message carries the end of dbt's output."""


def marker_path(settings: Settings) -> Path:
    return settings.demo_home / "world.json"


def _exclusive(settings: Settings) -> AbstractAsyncContextManager[None]:
    """The warehouse's dbt writer lock (FIFO in-process, flock across processes): two bots starting
    together build once, and the file is never swapped under a running `dbt test`."""
    lock = writer_lock(settings)
    return lock.hold() if lock is not None else nullcontext()


def _is_current(settings: Settings) -> bool:
    try:
        marker = json.loads(marker_path(settings).read_text())
        built_at = datetime.fromisoformat(marker["built_at"])
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return (
        marker.get("version") == DEMO_VERSION
        and datetime.now(UTC) - built_at < MAX_AGE
        and settings.warehouse_path.exists()
        and settings.manifest_path.exists()
    )


async def ensure_demo(settings: Settings, *, force: bool = False, progress: Progress | None = None) -> None:
    """Make sure the demo warehouse and its dbt manifest exist and are current; build them if not."""

    def report(stage: str, fraction: float) -> None:
        if progress is not None:
            progress(stage, fraction)

    if not force and _is_current(settings):
        report("demo world ready", 1.0)
        return
    async with _exclusive(settings):
        if not force and _is_current(settings):  # built by someone we waited for
            report("demo world ready", 1.0)
            return
        started = time.monotonic()
        marker_path(settings).unlink(missing_ok=True)
        scratch = settings.warehouse_path.parent / ".building"
        shutil.rmtree(scratch, ignore_errors=True)
        # Same file name as the final one: dbt-duckdb names the database after it, and the manifest
        # must name the database the bot will read.
        building = scratch / settings.warehouse_path.name

        report("generating events", 0.0)
        now = datetime.now(UTC).replace(microsecond=0)
        events = await asyncio.to_thread(write_events, building, now=now)

        report("running dbt", 0.4)
        await _dbt_run(settings, building, report)

        report("publishing", 0.95)
        # A leftover write-ahead log of the old file would be replayed into the new one.
        settings.warehouse_path.with_name(settings.warehouse_path.name + ".wal").unlink(missing_ok=True)
        os.replace(building, settings.warehouse_path)
        shutil.rmtree(scratch, ignore_errors=True)
        marker = {
            "version": DEMO_VERSION,
            "built_at": now.isoformat(),
            "seed": SEED,
            "events": events,
            "seconds": round(time.monotonic() - started, 2),
        }
        marker_path(settings).parent.mkdir(parents=True, exist_ok=True)
        marker_path(settings).write_text(json.dumps(marker, indent=2))
        report("demo world ready", 1.0)


async def _dbt_run(settings: Settings, database: Path, report: Progress) -> None:
    # `run`, not `build`: the demo's failing test is a feature and must not stop the world being built.
    tracker = EventTracker()

    async def on_event(event: dict[str, Any]) -> None:
        step = tracker.feed(event)
        if step is not None and step.total:
            report(f"running dbt ({step.done}/{step.total})", round(0.4 + 0.55 * step.done / step.total, 3))

    proc = await run_dbt(
        ["run"],
        project_dir=PROJECT_DIR,
        profiles_dir=PROJECT_DIR,
        target_path=settings.manifest_path.parent,
        log_path=settings.manifest_path.parent.parent / "logs",
        env={"AMD_DEMO_DUCKDB": str(database)},
        executable=settings.dbt_executable,
        on_event=on_event,
    )
    if proc.exit_code != 0:
        raise DemoBuildError(f"dbt run exited with {proc.exit_code}: {proc.error}")
