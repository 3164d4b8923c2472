"""The scheduled effects: immediate alerts after each sweep, and each route's digest when it is due.

Every replica runs both. Each post, edit and thread line goes through bot/alerts/delivery.py: claimed
in the state store per (incident, channel, notification), looked for before any retry that may have
landed, a refusing channel reported to the fallback channel and retried with backoff, the others
going on. An incident's notification count moves on only once every channel of that notification
has settled (posted or refused), so one replica dying in channel B never changes B's key while
channel A is told. A digest covers everything since its (route, channel) watermark, so a bot that
was down across several windows sends ONE digest.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta

from apscheduler.triggers.cron import CronTrigger

from bot.alerts import digest as digests
from bot.alerts import threads
from bot.alerts.delivery import LEASE_S, Effect, Sender
from bot.alerts.views import alert_message, all_green, digest_message, thread_line
from bot.core.backends import Backends
from bot.core.surface import Surface
from bot.foundation.ports import CardRef
from bot.foundation.settings import Settings
from bot.state.incidents import Incident, Incidents

SETTLED = ("posted", "failed")
PATIENCE, PER_CHANNEL_S = 3, 1.1  # Slack's chat.postMessage: about one message per second per channel


async def alert(
    backends: Backends, surface: Surface, *, now: datetime, lease_s: float = LEASE_S
) -> list[str]:
    """Immediate alerts for the incidents that need one now, recovery edits for those that resolved,
    and retries of refused destinations that are due; returns the keys of the incidents told."""
    store = Incidents(backends.state.engine)
    await store.expire_snoozes(now)
    settings = backends.settings
    sender = Sender(backends, surface, lease_s=lease_s)
    await sender.resume_reports()
    incidents = await recent(backends, now=now)
    known = threads.Known(await sender.store.of([i.key for i in incidents]))
    joined = threads.joining(incidents, backends.catalog, now=now)
    told = []
    for incident in incidents:
        wanted = destinations(settings, incident)
        if not wanted:
            continue
        if incident.state == "resolved":
            await threads.recover(sender, incident, wanted, known, backends.catalog)
            continue
        if incident.state_at(now) == "open":  # acknowledged or snoozed: nothing more is posted
            await _retry_refused(sender, incident, known, backends, now=now)
        threaded = any(known.root(incident.key, c) for c in wanted)
        if not _due(incident, now, settings.alert_suppress_s, settings.alert_renotify_s, threaded=threaded):
            continue
        root = joined.get(incident.key)
        if root is not None and any(known.root(root.key, c) for c in wanted):
            affected = sum(1 for r in joined.values() if r.key == root.key)
            keys = await threads.join(sender, incident, root, wanted, known, affected=affected, now=now)
        else:
            keys = await _tell(sender, incident, wanted, known, backends, joined, now=now)
        settled = await sender.store.many(keys)
        if len(settled) == len(keys) and all(d.state in SETTLED for d in settled):
            if any(d.state == "posted" for d in settled):
                told.append(incident.key)
            await store.notified(incident, at=now, **_where(settled, incident))
    return told


async def _tell(
    sender: Sender,
    incident: Incident,
    wanted: list[str],
    known: threads.Known,
    backends: Backends,
    joined: Mapping[str, Incident],
    *,
    now: datetime,
) -> list[str]:
    """The alert, in each channel: a top-level message for a new failure; a reply in its thread for a
    repeat (re-notified: broadcast so the channel sees it; failed again soon after recovering)."""
    settings = backends.settings
    affected = sum(1 for r in joined.values() if r.key == incident.key)
    message = alert_message(incident, backends.catalog, now=now, affected=affected)
    keys = []
    for channel in wanted:
        key = f"alert:{incident.key}:{incident.notified}:{channel}"
        root = known.root(incident.key, channel)
        # Told before with no telling on record: its snooze ran out (Incidents.expire_snoozes).
        told_at = incident.notified_at
        reopened = told_at is not None and incident.opened_at is not None and incident.opened_at > told_at
        soon = (
            reopened
            and told_at is not None
            and incident.opened_at is not None
            and (incident.opened_at - told_at).total_seconds() <= settings.alert_suppress_s
        )
        repeat = root is not None and incident.notified > 0 and (not reopened or soon)
        line = threads.repeat_line(incident, reopened=reopened) if repeat else None
        effect = Effect(
            key,
            "reply" if repeat else "alert",
            channel,
            thread_line(line) if line and reopened else message,
            incident=incident.key,
            thread=root if repeat else None,
            broadcast=repeat and not reopened,
            line=line,
        )
        await sender.send(effect)
        keys.append(key)
    return keys


async def _retry_refused(
    sender: Sender, incident: Incident, known: threads.Known, backends: Backends, *, now: datetime
) -> None:
    """Alerts a channel refused, of earlier notifications: each is tried again when its backoff is
    over (the claim refuses it before then, and while another replica holds it), with what the
    incident says now."""
    message = alert_message(incident, backends.catalog, now=now)
    for refused in known.unfinished(incident.key, before=incident.notified):
        await sender.send(Effect(refused.key, "alert", refused.channel, message, incident=incident.key))


def destinations(settings: Settings, incident: Incident) -> list[str]:
    """The channels an incident's immediate alert goes to: one per route that takes it; an incident
    with no channel of its own goes to the fallback channel rather than nowhere."""
    fallback = digests.fallback_channel(settings)
    wanted = [
        channel
        for route in settings.alert_routes
        if incident.kind in route.immediate
        and digests.takes(route, incident)
        and (channel := digests.channel_of(route, incident, fallback))
    ]
    return list(dict.fromkeys(wanted))


def _where(settled: list[threads.Delivery], incident: Incident) -> dict[str, str]:
    """Where the incident's alert is now: the first channel that took it, else where it was."""
    posted = next((d for d in settled if d.state == "posted" and d.ts), None)
    if posted is None:
        before = incident.alert or {}
        return {"channel": before.get("channel", ""), "ts": before.get("ts", "")}
    return {"channel": posted.posted_channel or posted.channel, "ts": str(posted.ts)}


def _due(incident: Incident, now: datetime, suppress_s: float, renotify_s: float, *, threaded: bool) -> bool:
    if incident.state_at(now) != "open" or incident.severity != "critical":
        return False
    if incident.notified_at is None:  # never told, or its snooze ran out (expire_snoozes)
        return True
    since_told = (now - incident.notified_at).total_seconds()
    reopened = incident.opened_at is not None and incident.opened_at > incident.notified_at
    if reopened and threaded:  # failed again: a quiet line in its thread now, a new message after that
        return True
    # A flapping failure reopens often: without a thread it is told again only after the suppression interval.
    return since_told >= (suppress_s if reopened else renotify_s)


async def send_digests(
    backends: Backends,
    surface: Surface,
    *,
    now: datetime,
    unreadable: Mapping[str, str],
    route_name: str | None = None,
    force: bool = False,
    lease_s: float = LEASE_S,
    pause: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> list[str]:
    """Post every digest that is due (or, with `force`, those of `route_name` now); returns where.
    `pause` waits out a detail reply's 429 (the simulation's clock is its store's, not the wall's)."""
    store = Incidents(backends.state.engine)
    sender = Sender(backends, surface, lease_s=lease_s)
    fallback = digests.fallback_channel(backends.settings)
    sent = []
    incidents = await recent(backends, now=now)
    for route in backends.settings.alert_routes:
        if route_name is not None and route.name != route_name:
            continue
        where = digests.channels(route, incidents, fallback)
        if route.channel and route.channel not in where:  # it may have recoveries, or unread sources, to tell
            where.append(route.channel)
        for channel in where:
            mark = f"digest:{route.name}:{channel}"
            last = await store.mark(mark)
            due = now if force else _due_window(route.trigger(), last, now)
            if last is None and not force:
                await store.set_mark(mark, now)  # a new (route, channel): its first window starts now
                continue
            if due is None:
                continue
            built = digests.build(
                route,
                channel,
                incidents,
                backends.catalog,
                since=last,
                now=now,
                unreadable=unreadable,
                fallback=fallback,
            )
            if built.quiet and not route.all_green:
                await store.set_mark(mark, now)
                continue
            message, details = (
                digest_message(built, backends.catalog) if not built.quiet else (all_green(built), None)
            )
            key = f"{mark}:{due.isoformat()}"
            ref = await sender.send(Effect(key, "digest", channel, message))
            if ref is None:
                continue
            # The mark moves once the details are in the thread too: until then this window's key is
            # due again, its digest found posted, and only the details sent (after a look).
            if details is None or await _patiently(
                sender, Effect(f"{key}:details", "digest", ref.channel, details, thread=ref), pause
            ):
                await store.set_mark(mark, now)
                sent.append(f"{route.name} → {channel}")
    return sent


async def _patiently(
    sender: Sender, effect: Effect, pause: Callable[[float], Awaitable[object]]
) -> CardRef | None:
    """A thread reply right after its parent meets Slack's ~1 post/s per channel: its Retry-After (a
    second) is waited out here, so the digest's window closes in this tick rather than the next poll."""
    for _ in range(PATIENCE):
        if ref := await sender.send(effect):
            return ref
        waiting = await sender.store.get(effect.key)
        if waiting is None or waiting.state != "claimed":  # held elsewhere, refused or unsure: not a 429
            return None
        await pause(PER_CHANNEL_S)
    return None


async def recent(backends: Backends, *, now: datetime) -> list[Incident]:
    """The unresolved incidents, and those resolved within the retention (a digest's "recovered")."""
    since = now - timedelta(days=backends.settings.retention_days)
    return await Incidents(backends.state.engine).all(since=since)


def _due_window(trigger: CronTrigger, last: datetime | None, now: datetime) -> datetime | None:
    """The newest scheduled time in (last, now]: several missed windows are one digest."""
    if last is None:
        return None
    due = None
    fire = trigger.get_next_fire_time(None, last + timedelta(microseconds=1))
    while fire is not None and fire <= now:
        due = fire
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    return due
