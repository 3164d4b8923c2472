"""Sending one alert effect exactly once across replicas: a top-level post, a thread line or an edit,
driven through the state machine of bot/state/deliveries.py.

What Slack answered decides the next state: accepted → posted; a refusal (`ok: false`: the channel is
gone, archived, the bot not in it) → failed, with a backoff and a *delivery problem* told once to the
fallback channel; a 429 → not sent, again after Retry-After; anything else (5xx, a lost response, a
replica killed mid-call) → maybe posted, and whoever continues looks in the channel before sending.
Nothing raises out of `send`: one broken destination never stops the others.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from slack_sdk.errors import SlackApiError

from bot.alerts.digest import fallback_channel
from bot.core.backends import Backends
from bot.core.surface import MessageGone, PartlyPosted, RateLimited, Recall, Surface
from bot.foundation.metrics import ALERT_DELIVERY_FAILURES
from bot.foundation.ports import CardRef
from bot.render.message import Message, Text
from bot.state.deliveries import Deliveries, Kind, deliveries

log = logging.getLogger(__name__)
LEASE_S = 120.0  # longer than one post with its waits can take
CLOCK_SKEW = timedelta(minutes=10)  # between the store's clock and Slack's message timestamps
UNSURE_RETRY_S = 0.0  # the next tick looks for it, then sends
BACKOFF_S, MAX_BACKOFF_S = 60.0, 3600.0  # a refused destination is tried again after 1, 2, 4 … 60 min
FIXES = {
    "channel_not_found": "no such channel: fix the name in the route or the entity's support_channel",
    "not_in_channel": "invite the bot: `/invite @amd-bot` in that channel",
    "is_archived": "the channel is archived: unarchive it or route these alerts elsewhere",
    "restricted_action": "posting there is restricted: ask a workspace admin to allow the bot",
    "missing_scope": "reinstall the app with the scopes of deploy/slack/manifest.yaml",
}
RECREATE = frozenset({"message_not_found", "cant_update_message"})  # an edit whose message is gone


@dataclass(frozen=True)
class Effect:
    """What to do under `key` in `channel`: post `message` (in `thread` when given, broadcast to the
    channel too with `broadcast`), or edit the message `edit`."""

    key: str
    kind: Kind
    channel: str
    message: Message
    incident: str | None = None
    thread: CardRef | None = None
    edit: CardRef | None = None
    broadcast: bool = False
    line: str | None = None  # the timeline's words for a thread line


class Sender:
    def __init__(self, backends: Backends, surface: Surface, *, lease_s: float = LEASE_S) -> None:
        self.backends = backends
        self.surface = surface
        self.store = Deliveries(backends.state.engine, holder=backends.state.holder, lease_s=lease_s)

    async def send(self, effect: Effect) -> CardRef | None:
        """Do `effect` unless it is done or another replica is doing it; its message when posted (now
        or before). Never raises for Slack's answers: they are recorded on the delivery instead."""
        await self.backends.state.owed.repay()  # records a store outage kept this process from making
        taken = await self.store.take(
            effect.key, kind=effect.kind, channel=effect.channel, incident=effect.incident
        )
        if taken is None:
            done = await self.store.get(effect.key)
            if done is not None and done.state == "posted" and done.ts:
                return CardRef(done.posted_channel or effect.channel, done.ts)
            return None
        if taken.state == "maybe_posted" and effect.edit is None:
            since = datetime.fromtimestamp(taken.created_s, UTC) - CLOCK_SKEW
            if found := await self._find(effect, since):
                log.info("%s was posted before (found in the channel): not posting it again", effect.key)
                await self._posted(effect, found)
                return found
        # An alert or repeat goes out only while its incident is open: a tick that read it before
        # someone pressed Acknowledge (or Snooze, Resolve) must not post it after.
        gate = effect.incident if effect.kind in ("alert", "reply") else None
        if not await self.store.sending(effect.key, while_open=gate):
            # Held too long (another replica took it over: giving back is then a no-op), or the
            # incident is no longer open: as it was, for when the incident is due again.
            await self.store.give_back(effect.key, state=taken.state)
            return None
        return await self._deliver(effect, lambda: self._call(effect), taken.attempts, recreate=True)

    async def _deliver(
        self, effect: Effect, call: Callable[[], Awaitable[CardRef]], attempts: int, *, recreate: bool
    ) -> CardRef | None:
        """Make the call and record what Slack said: posted, not sent (wait), refused, or unsure."""
        try:
            ref = await call()
        except RateLimited as limited:
            wait = limited.retry_after
            await self._record(lambda: self.store.not_sent(effect.key, retry_in_s=wait))
            return None
        except PartlyPosted as partly:  # the message is there; a file that goes with it is not
            log.warning("%s posted without its attachments: %s", effect.key, partly.__cause__)
            ref = partly.ref
        except MessageGone as gone:
            return await self._refusal(effect, str(gone), attempts, recreate=recreate)
        except SlackApiError as exc:
            if exc.response.status_code == 200:  # `ok: false`: Slack refused it, nothing was posted
                return await self._refusal(
                    effect, str(exc.response.get("error")), attempts, recreate=recreate
                )
            await self._unsure(effect)
            return None
        except Exception:
            await self._unsure(effect)
            return None
        await self._posted(effect, ref)
        return ref

    async def _posted(self, effect: Effect, ref: CardRef) -> None:
        await self._record(
            lambda: self.store.posted(effect.key, channel=ref.channel, ts=ref.ts, line=effect.line)
        )

    async def _record(self, write: Callable[[], Awaitable[None]]) -> None:
        """What Slack answered, into the store; if the store went away meanwhile, written as soon as it
        is back (by this process's next send), not left held until the lease runs out."""
        await self.backends.state.owed.give_back(write)

    async def _refusal(self, effect: Effect, error: str, attempts: int, *, recreate: bool) -> CardRef | None:
        if recreate and effect.edit is not None and error in RECREATE:
            # The message to edit was deleted: it is posted again once, as a new top-level message, and
            # that post is what this edit's delivery records (so no later tick edits the deleted one).
            log.info("%s: the message to edit is gone, posting it again", effect.key)
            again = replace(effect.message, key=effect.key)
            return await self._deliver(
                effect, lambda: self.surface.post(again, channel=effect.channel), attempts, recreate=False
            )
        await self._refused(effect, error, attempts)
        return None

    async def _unsure(self, effect: Effect) -> None:
        log.warning("%s may or may not have reached Slack: looked for first", effect.key, exc_info=True)
        ALERT_DELIVERY_FAILURES.labels("unsure").inc()
        await self._record(lambda: self.store.unsure(effect.key, retry_in_s=UNSURE_RETRY_S))

    async def _call(self, effect: Effect) -> CardRef:
        message = replace(effect.message, key=effect.key, broadcast=effect.broadcast)
        if effect.edit is not None:
            await self.surface.update(effect.edit, message)
            return effect.edit
        return await self.surface.post(message, channel=effect.channel, thread=effect.thread)

    async def _find(self, effect: Effect, since: datetime) -> CardRef | None:
        if not isinstance(self.surface, Recall):
            return None
        return await self.surface.find_posted(effect.channel, effect.key, since=since, thread=effect.thread)

    async def _refused(self, effect: Effect, error: str, attempts: int) -> None:
        ALERT_DELIVERY_FAILURES.labels(error).inc()
        backoff = min(BACKOFF_S * 2 ** (attempts - 1), MAX_BACKOFF_S)
        await self._record(lambda: self.store.failed(effect.key, error=error, retry_in_s=backoff))
        log.warning(
            "%s refused by Slack in %s (%s): again in %.0f s", effect.key, effect.channel, error, backoff
        )
        if effect.kind != "problem":
            await self.report(effect.channel, error)

    async def report(self, channel: str, error: str) -> None:
        """Tell the fallback channel, once per (channel, error), that `channel` refuses alerts."""
        fallback = fallback_channel(self.backends.settings)
        if fallback is None or fallback == channel:
            log.error("alerts to %s are refused (%s) and there is no other channel to say so", channel, error)
            return
        fix = FIXES.get(error, "check the channel and the bot's access to it")
        text = (
            f":rotating_light: *Delivery problem:* alerts to {channel} are refused by Slack "
            f"(`{error}`). Fix: {fix}."
        )
        message = Message((Text(text),), fallback=f"Delivery problem: {channel} ({error})", public=True)
        await self.send(Effect(f"problem:{channel}:{error}", "problem", fallback, message))

    async def resume_reports(self) -> None:
        """A delivery problem whose telling was cut short (a replica killed mid-call, a lost answer) is
        told on the next tick, not only at its channel's next refusal: an acknowledged or resolved
        incident's refused alert is never tried again, so that refusal may never come."""
        d = deliveries.c
        for left in await self.store.where(d.kind == "problem", d.state.in_(("claimed", "maybe_posted"))):
            _, channel, error = left.key.split(":", 2)
            await self.report(channel, error)
