"""Slack events for help-channel answers and the App Home tab. No understanding here (commands/ask)
and no facts (the services behind it): which messages are questions to the bot, deduplication of
Slack's retries, rate limits, answering in the thread, and publishing each user's Home tab.

Which messages: every `app_mention`; in DMs (`message.im`) every message; in the help channels
(`AMD_HELP_CHANNELS`) the messages the bot can answer (chatter gets no reply, even with the bot
mentioned, unless `AMD_HELP_REPLY_TO_CHATTER`: commands/ask/about.no_reply); anywhere, a follow-up
in a thread the bot answered in.
Never its own messages, other bots', edits, deletions or joins (message subtypes).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from bot.core.backends import Backends
from bot.core.command import Ctx
from bot.core.router import MAX_TEXT
from bot.foundation.ports import CardRef
from bot.foundation.settings import Settings
from bot.render.message import Message, Text
from bot.render.slack import to_blocks
from bot.state.answers import AnswerState
from bot.state.store import AuditEntry
from bot.surfaces.slack import SlackSurface
from commands import home
from commands.ask import PERMISSION
from commands.ask.engine import read, reply, unanswered

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
Listener = Callable[[AsyncAck, dict[str, Any], dict[str, Any], AsyncBoltContext], Awaitable[None]]
EVENT_ID = "amd_event_id"  # the event taken under a lease (bot/surfaces/bolt.py), in Bolt's context
EVENT_LEASE = timedelta(seconds=30)  # far above an answer's time; below Slack's first delayed retry
MAX_QUESTION = 2_000  # characters understood of a message: a pasted log is not a question


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Answers:
    EVENTS = ("app_mention", "message", "app_home_opened")  # what is marked done after its answer

    def __init__(self, app: AsyncApp, backends: Backends, *, clock: Clock = _utcnow) -> None:
        self.app = app
        self.backends = backends
        self.settings: Settings = backends.settings
        self.state = AnswerState(backends.state.engine)
        self.clock = clock

    def register(self) -> None:
        tracked = self.backends.answering.tracked  # a stopping process finishes what it acked
        self.app.event("app_mention")(tracked(self._once(self.mention)))
        self.app.event("message")(tracked(self._once(self.message)))
        self.app.event("app_home_opened")(tracked(self._once(self.home_opened)))

    def _once(self, listener: Listener) -> Listener:
        """Marks the event done once its listener finished (bot/surfaces/bolt.py took it under a
        lease); a listener that failed gives the lease back, so Slack's retry is answered."""

        async def handle(
            ack: AsyncAck, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
        ) -> None:
            event_id = context.get(EVENT_ID)
            try:
                await listener(ack, body, event, context)
            except BaseException:
                if event_id:
                    await self.state.event_failed(event_id)
                raise
            if event_id:
                await self.state.event_done(event_id, now=self.clock())

        return handle

    async def mention(
        self, ack: AsyncAck, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        await ack()
        await self._answer(event, context, direct=False, mention=True)

    async def message(
        self, ack: AsyncAck, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        await ack()
        bot_user = context.bot_user_id
        if event.get("subtype") or event.get("bot_id") or event.get("user") in (None, bot_user):
            return
        dm = _in_dm(event)
        if bot_user and f"<@{bot_user}>" in event.get("text", "") and not dm:
            return  # a mention: Slack sends it as app_mention too, and that one is answered
        await self._answer(event, context, direct=dm)

    async def _answer(
        self, event: dict[str, Any], context: AsyncBoltContext, *, direct: bool, mention: bool = False
    ) -> None:
        """`direct`: a DM, answered whatever it says. `mention`: an app_mention, answered in any channel the
        bot is in, and as put to the bot where it speaks to the bot (commands/ask/markup: "does @amd get a
        day off?" speaks of it, and gets a reply only if it asks what the bot answers)."""
        if event.get("bot_id") or event.get("subtype"):
            return  # another bot's mention (or an edit of one): bots answering bots never ends
        channel, user = event["channel"], event.get("user", "")
        root = event.get("thread_ts") or event["ts"]
        thread = await self.state.recall(channel, event["thread_ts"]) if event.get("thread_ts") else None
        if not (direct or mention or thread or channel in self.settings.help_channels):
            return
        # Before any understanding: who may ask, and whether they are within their limits.
        if not self.backends.policy.check(PERMISSION, user=user, channel=channel).allowed:
            return
        if await self._over_limit(user, channel):
            return
        surface = SlackSurface(self.app.client, channel=channel, user=user)
        text = event.get("text", "")[:MAX_QUESTION]
        ctx = Ctx(user=user, channel=channel, backends=self.backends, surface=surface, text=text)
        question, addressed = read(text, ctx, bot_user=context.bot_user_id, thread=thread)
        # an app_mention names the bot even where its id is not known here: then it is taken as spoken to
        unseen = mention and not (context.bot_user_id and f"<@{context.bot_user_id}" in text)
        direct = direct or addressed or unseen or self.settings.help_reply_to_chatter
        # said where the room hears it too: the room's talk put to the bot gets no reply, unless configured
        room = not (_in_dm(event) or self.settings.help_reply_to_chatter)
        if unanswered(question, ctx, direct=direct, in_channel=room):
            return  # chatter: no reply, and it costs nobody their rate budget
        if not await self._admitted(user, channel, surface, CardRef(channel, root)):
            return
        started = time.monotonic()
        answered = await reply(question, ctx, direct=direct, prefix=self.settings.command, in_channel=room)
        if answered.message is None:
            return
        await surface.post(answered.message, thread=CardRef(channel, root))
        if answered.asked is not None:
            await self.state.remember(channel, root, answered.asked, now=self.clock())
        outcome = "answered" if answered.asked else "declined" if question.intent is None else "asked back"
        ctx.audit_detail.update(intent=question.intent, entity=question.entity, thread=root)
        await self.backends.state.record_audit(
            AuditEntry(
                at=self.clock(),
                user_id=user,
                channel_id=channel,
                command=PERMISSION,
                text=ctx.text[:MAX_TEXT],
                outcome=outcome,
                duration_ms=int((time.monotonic() - started) * 1000),
                detail=ctx.audit_detail,
            )
        )

    async def _over_limit(self, user: str, channel: str) -> bool:
        """Already past a limit in this window (its notice was posted when it was passed)."""
        window_s = self.settings.help_rate_window_s
        for key, limit in (
            (f"user:{user}", self.settings.help_user_limit),
            (f"channel:{channel}", self.settings.help_channel_limit),
        ):
            if await self.state.counted(key, window_s=window_s) > limit:
                return True
        return False

    async def _admitted(self, user: str, channel: str, surface: SlackSurface, thread: CardRef) -> bool:
        """Within the per-user and per-channel limits; past one, a single polite notice per window."""
        now, window_s = self.clock(), self.settings.help_rate_window_s
        for kind, who, limit in (
            ("user", user, self.settings.help_user_limit),
            ("channel", channel, self.settings.help_channel_limit),
        ):
            count, window = await self.state.count(f"{kind}:{who}", window_s=window_s, now=now)
            if count > limit:
                if await self.backends.state.claim(f"help-notice:{window}"):
                    notice = _slow_down(kind, limit, window_s, self.settings.command)
                    await surface.post(notice, thread=thread)
                return False
        return True

    async def home_opened(
        self, ack: AsyncAck, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        await ack()
        if event.get("tab") != "home":
            return
        user, now = event["user"], self.clock()
        # One claim per user, taken over once it is older than the interval: a sliding minute, so two
        # openings a second apart never both publish (fixed windows would let them across a boundary).
        # Claims are stamped by the state store's clock, so the interval is measured on it too.
        claim = f"home:{user}"
        every = max(self.settings.home_min_interval_s, 1.0)
        state = self.backends.state
        if not (await state.claim(claim) or await state.take_over(claim, older_than_s=every)):
            return  # published within the interval (by this replica or another): it is still current
        try:
            message = await home.build(
                self.backends,
                now=now,
                prefix=self.settings.command,
                user=user,
                channel=event.get("channel", ""),
            )
            await self.app.client.views_publish(
                user_id=user, view={"type": "home", "blocks": to_blocks(message)}
            )
        except Exception:
            await self.backends.state.release(claim)  # the next opening tries again
            raise


def _slow_down(kind: str, limit: int, window_s: float, prefix: str) -> Message:
    whose = "your" if kind == "user" else "this channel's"
    text = (
        f"That is more than {limit} questions in {window_s:g} s, {whose} limit, so I will pause answering "
        f"for a moment. Ask again shortly; `{prefix} help` meanwhile lists the commands."
    )
    return Message((Text(f":hourglass_flowing_sand: {text}"),), fallback=text, public=True)


def _in_dm(event: dict[str, Any]) -> bool:
    """A DM with the bot; a mention is in a channel (an `app_mention` carries no channel_type)."""
    return event.get("channel_type") == "im"
