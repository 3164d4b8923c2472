"""Scheduled work on APScheduler 3 (AsyncIOScheduler). Every job is idempotent and safe to run on
every replica at once: effects that must happen once are claimed in the state store first."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.events import EVENT_JOB_SUBMITTED, JobSubmissionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.alerts.deliver import alert, send_digests
from bot.alerts.watch import sweep
from bot.core import cards
from bot.core.backends import Backends
from bot.core.cards import Refresh
from bot.core.command import Command
from bot.core.surface import Surface
from bot.foundation.inflight import InFlight, settled
from bot.foundation.metrics import SCHEDULER_LAG
from commands.migration import check_stalls
from commands.test.lifecycle import reconcile_lost

log = logging.getLogger(__name__)
JOBS_GRACE_S = 5.0  # a stop waits this long for running ticks; each is idempotent, so cutting one is safe


class Schedule:
    """APScheduler and the ticks it has running. A stop lets a running tick finish (bounded) rather
    than cancel it: APScheduler's own shutdown cancels running coroutine jobs, and a task cancelled
    while it checks out a pooled connection leaves that connection to the garbage collector."""

    def __init__(self) -> None:
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self.running = InFlight()

    async def stop(self, grace_s: float = JOBS_GRACE_S) -> None:
        """No new ticks; the running ones get `grace_s` to end, then are cancelled, and their cancels
        (bounded by `grace_s` again) land before this returns."""
        self.scheduler.pause()
        if not await settled(grace_s, self.running):
            log.warning("stopping: cancelling %d scheduled job(s) still running", self.running.count)
        self.scheduler.shutdown(wait=False)  # AsyncIOScheduler's is queued: the loop's next turn
        await asyncio.sleep(0)
        await settled(grace_s, self.running)


def live_kinds(commands: Sequence[Command[Any]]) -> dict[str, Refresh]:
    return {c.name: c.refresh for c in commands if c.refresh is not None}


async def refresh_cards(backends: Backends, surface: Surface, kinds: Mapping[str, Refresh]) -> None:
    updated = await cards.tick(backends, surface, kinds)
    if updated:
        log.debug("updated %d live card(s)", updated)


def start_scheduler(backends: Backends, surface: Surface, commands: Sequence[Command[Any]]) -> Schedule:
    schedule = Schedule()
    scheduler = schedule.scheduler
    settings = backends.settings

    def every(seconds: float, job: Any, *args: Any, name: str, grace_s: int, at_start: bool = False) -> None:
        # coalesce: after a pause one catch-up tick is enough (each job reads what it needs since its
        # own stored mark); max_instances=1: a slow backend must not pile up overlapping ticks.
        # (next_run_time=None would add the job paused: APScheduler's default is left alone instead.)
        first = {"next_run_time": datetime.now(UTC)} if at_start else {}
        scheduler.add_job(
            schedule.running.tracked(job),
            "interval",
            seconds=seconds,
            args=args,
            id=name,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=grace_s,
            **first,
        )

    every(
        settings.poll_interval_s,
        refresh_cards,
        backends,
        surface,
        live_kinds(commands),
        name="live-cards",
        grace_s=30,
    )
    every(60, alert_stalled_migrations, backends, surface, name="migration-stalls", grace_s=120)
    # At start too: runs of the process this one replaces.
    every(
        settings.lease_ttl_s,
        reconcile_lost_runs,
        backends,
        surface,
        name="lost-runs",
        grace_s=60,
        at_start=True,
    )
    # At start too: a bot that restarts often still prunes.
    every(3600, housekeeping, backends, name="housekeeping", grace_s=600, at_start=True)
    every(60, watch_manifest, backends, name="manifest", grace_s=120)
    every(settings.alert_poll_s, watch_failures, backends, surface, name="failures", grace_s=600)
    scheduler.add_listener(observe_lag, EVENT_JOB_SUBMITTED)
    scheduler.start()
    return schedule


def observe_lag(event: JobSubmissionEvent, *, now: datetime | None = None) -> None:
    """How late each job starts: a busy event loop or a long pause shows here before anywhere else."""
    now = now or datetime.now(UTC)
    for scheduled in event.scheduled_run_times:
        SCHEDULER_LAG.labels(event.job_id).observe(max(0.0, (now - scheduled).total_seconds()))


async def reconcile_lost_runs(backends: Backends, surface: Surface) -> None:
    # A run is lost once its replica's heartbeat is older than the lease TTL, so a process killed just
    # before this one started is found by a later tick, not missed.
    lost = await reconcile_lost(backends, surface, now=datetime.now(UTC))
    if lost:
        log.warning("test runs lost with their process: %s", ", ".join(lost))


async def housekeeping(backends: Backends, *, now: datetime | None = None) -> None:
    """Prune what is past its retention. Deletes only: every replica may run it, at any time."""
    now = now or datetime.now(UTC)
    settings = backends.settings
    pruned = await backends.state.prune(
        records_before=now - timedelta(days=settings.retention_days),
        events_before=now - timedelta(hours=settings.event_retention_hours),
        audit_before=now - timedelta(days=settings.audit_retention_days),
    )
    if any(pruned.values()):
        log.info("pruned %s", ", ".join(f"{n} {kind}" for kind, n in pruned.items() if n))


async def watch_manifest(backends: Backends) -> bool:
    """Reload the catalog when the dbt manifest changed (a deploy, `dbt parse`); True when it did."""
    reloaded = await backends.reload_catalog()
    if reloaded:
        log.warning("dbt manifest changed: catalog reloaded (%d entities)", len(backends.catalog.entities))
    return reloaded


async def alert_stalled_migrations(backends: Backends, surface: Surface) -> None:
    # Every replica runs this; check_stalls claims each alert in the state store, so it posts once.
    alerted = await check_stalls(backends, surface, now=datetime.now(UTC))
    if alerted:
        log.info("stall alerts sent for %s", ", ".join(alerted))


async def watch_failures(backends: Backends, surface: Surface, *, now: datetime | None = None) -> None:
    """Sweep every source into incidents, alert what must not wait, post the digests that are due.
    Every replica runs it; each message is claimed first (bot/alerts/deliver.py), so it posts once."""
    now = now or datetime.now(UTC)
    swept = await sweep(backends, now=now)
    told = await alert(backends, surface, now=now)
    sent = await send_digests(backends, surface, now=now, unreadable=swept.unreadable)
    if told or sent:
        log.info("alerts for %s; digests to %s", ", ".join(told) or "none", ", ".join(sent) or "none")
