"""Scheduled work on APScheduler 3 (AsyncIOScheduler). Every job is idempotent and safe to run on
every replica at once: effects that must happen once are claimed in the state store first."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.core import cards
from bot.core.backends import Backends
from bot.core.cards import Refresh
from bot.core.command import Command
from bot.core.surface import Surface
from commands.migration import check_stalls

log = logging.getLogger(__name__)


def live_kinds(commands: Sequence[Command[Any]]) -> dict[str, Refresh]:
    return {c.name: c.refresh for c in commands if c.refresh is not None}


async def refresh_cards(backends: Backends, surface: Surface, kinds: Mapping[str, Refresh]) -> None:
    updated = await cards.tick(backends, surface, kinds)
    if updated:
        log.debug("updated %d live card(s)", updated)


def start_scheduler(
    backends: Backends, surface: Surface, commands: Sequence[Command[Any]]
) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.add_job(
        refresh_cards,
        "interval",
        seconds=backends.settings.poll_interval_s,
        args=(backends, surface, live_kinds(commands)),
        id="live-cards",
        replace_existing=True,
        coalesce=True,  # after a pause, one catch-up tick is enough
        max_instances=1,  # a slow backend must not pile up overlapping ticks
        misfire_grace_time=30,
    )
    scheduler.add_job(
        alert_stalled_migrations,
        "interval",
        seconds=60,
        args=(backends, surface),
        id="migration-stalls",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=120,
    )
    scheduler.start()
    return scheduler


async def alert_stalled_migrations(backends: Backends, surface: Surface) -> None:
    # Every replica runs this; check_stalls claims each alert in the state store, so it posts once.
    alerted = await check_stalls(backends, surface, now=datetime.now(UTC))
    if alerted:
        log.info("stall alerts sent for %s", ", ".join(alerted))
