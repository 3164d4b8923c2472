"""The scheduled effects: immediate alerts after each sweep, and each route's digest when it is due.

Every replica runs both. Each message is claimed in the state store before it is posted: a claim
whose holder died before recording the post is taken over after `LEASE`. Slack refusing (429, down)
gives the claim back and the next tick posts: delayed, never dropped. A digest covers everything since
its (route, channel) watermark, so a bot that was down across several windows sends ONE digest.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from apscheduler.triggers.cron import CronTrigger

from bot.alerts import digest as digests
from bot.alerts.views import alert_message, all_green, digest_message
from bot.core.backends import Backends
from bot.core.surface import RateLimited, Recall, Surface
from bot.foundation.ports import CardRef
from bot.render.message import Message
from bot.state.incidents import Incident, Incidents

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=2)  # longer than one post with its retries can take
RATE_LIMIT_WAITS = 3
CLOCK_SKEW = timedelta(minutes=1)  # between our clock (the claim's time) and Slack's message timestamps


async def post_once(
    backends: Backends,
    surface: Surface,
    key: str,
    message: Message,
    channel: str,
    *,
    now: datetime,
    thread: CardRef | None = None,
) -> CardRef | None:
    """Post under a claim; None when another replica has it (or had it and finished). Taking over a
    dead replica's claim, look first for the post it may have made (the key is in the message's
    metadata), so a crash between posting and recording it does not post twice."""
    state = backends.state
    message = replace(message, key=key)
    if not await state.claim(key):
        claimed_at = await state.take_over(key, claimed_before=now - LEASE)
        if claimed_at is None:
            return None
        if isinstance(surface, Recall):
            since = claimed_at - CLOCK_SKEW
            if found := await surface.find_posted(channel, key, since=since, thread=thread):
                log.info("post %s was made before its replica died: not posting it again", key)
                return found
    try:
        return await _post(surface, message, channel, thread)
    except BaseException:
        await state.release(key)  # not posted: a later tick (or replica) posts it
        raise


async def _post(surface: Surface, message: Message, channel: str, thread: CardRef | None) -> CardRef:
    for _ in range(RATE_LIMIT_WAITS):
        try:
            return await surface.post(message, channel=channel, thread=thread)
        except RateLimited as limited:  # the scheduler's Slack client does not sleep 429s out itself
            await asyncio.sleep(limited.retry_after)
    return await surface.post(message, channel=channel, thread=thread)


async def alert(backends: Backends, surface: Surface, *, now: datetime) -> list[str]:
    """Immediate alerts for the incidents that need one now; returns their keys."""
    store = Incidents(backends.state.engine)
    settings = backends.settings
    told = []
    for incident in await store.all():
        wanted = [
            channel
            for route in settings.alert_routes
            if incident.kind in route.immediate
            and digests.takes(route, incident)
            and (channel := digests.channel_of(route, incident))
        ]
        if not wanted or not _due(incident, now, settings.alert_suppress_s, settings.alert_renotify_s):
            continue
        message = alert_message(incident, backends.catalog, now=now)
        posted = None
        for channel in dict.fromkeys(wanted):
            key = f"alert:{incident.key}:{incident.notified}:{channel}"
            posted = await post_once(backends, surface, key, message, channel, now=now) or posted
        if posted is not None:
            await store.notified(incident, at=now, channel=posted.channel, ts=posted.ts)
            told.append(incident.key)
    return told


def _due(incident: Incident, now: datetime, suppress_s: float, renotify_s: float) -> bool:
    if incident.state_at(now) != "open" or incident.severity != "critical":
        return False
    if incident.notified_at is None:
        return True
    since_told = (now - incident.notified_at).total_seconds()
    if incident.state == "snoozed":  # a snooze ran out (state_at said open): tell it again now
        return True
    reopened = incident.opened_at is not None and incident.opened_at > incident.notified_at
    # A flapping failure reopens often: it is told again only after the suppression interval.
    return since_told >= (suppress_s if reopened else renotify_s)


async def send_digests(
    backends: Backends,
    surface: Surface,
    *,
    now: datetime,
    unreadable: Mapping[str, str],
    route_name: str | None = None,
    force: bool = False,
) -> list[str]:
    """Post every digest that is due (or, with `force`, those of `route_name` now); returns where."""
    store = Incidents(backends.state.engine)
    sent = []
    incidents = await recent(backends, now=now)
    for route in backends.settings.alert_routes:
        if route_name is not None and route.name != route_name:
            continue
        where = digests.channels(route, incidents)
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
                route, channel, incidents, backends.catalog, since=last, now=now, unreadable=unreadable
            )
            if built.quiet and not route.all_green:
                await store.set_mark(mark, now)
                continue
            message, details = (
                digest_message(built, backends.catalog) if not built.quiet else (all_green(built), None)
            )
            key = f"{mark}:{due.isoformat()}"
            ref = await post_once(backends, surface, key, message, channel, now=now)
            if ref is not None:
                if details is not None:
                    await post_once(
                        backends, surface, f"{key}:details", details, ref.channel, now=now, thread=ref
                    )
                await store.set_mark(mark, now)
                sent.append(f"{route.name} → {channel}")
    return sent


async def recent(backends: Backends, *, now: datetime) -> list[Incident]:
    """The unresolved incidents, and those resolved within the retention (a digest's "recovered")."""
    since = now - timedelta(days=backends.settings.retention_days)
    return await Incidents(backends.state.engine).all(since=since)


def _due_window(trigger: CronTrigger, last: datetime | None, now: datetime) -> datetime | None:
    """The newest scheduled time in (last, now]: several missed windows are one digest."""
    if last is None:
        return None
    due = None
    fire = trigger.get_next_fire_time(None, last + timedelta(seconds=1))
    while fire is not None and fire <= now:
        due = fire
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    return due
