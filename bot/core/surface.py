"""Where answers go: a Slack conversation or the local console. Handlers only see this Protocol."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol, runtime_checkable

from bot.foundation.ports import CardRef
from bot.render.form import Form
from bot.render.message import Message


class MessageGone(Exception):
    """The message can never be changed again: deleted, or its channel archived or gone."""


class PartlyPosted(Exception):
    """The message was posted (`ref`), but what goes with it (a file) was not: never post it again."""

    def __init__(self, ref: CardRef) -> None:
        super().__init__(f"posted as {ref.ts} in {ref.channel} without its attachments")
        self.ref = ref


class RateLimited(Exception):
    """Slack asked to wait `retry_after` seconds; nothing was changed."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited for {retry_after:g} s")
        self.retry_after = retry_after


@runtime_checkable
class Recall(Protocol):
    """A surface that can find a message it posted earlier by its `Message.key` (Slack: metadata)."""

    async def find_posted(
        self, channel: str, key: str, *, since: datetime, thread: CardRef | None = None
    ) -> CardRef | None: ...


class Surface(Protocol):
    async def respond(self, message: Message) -> None:
        """Answer the person who asked: ephemeral unless `message.public`."""

    async def post(
        self, message: Message, *, channel: str | None = None, thread: CardRef | None = None
    ) -> CardRef:
        """A message the whole channel sees (default: where the command was typed), optionally in a thread."""

    async def update(self, ref: CardRef, message: Message) -> None:
        """Replace a posted card in place. Raises MessageGone or RateLimited (from `post` too) so a
        live card can be retired or tried again later instead of failing its whole round."""

    async def open_form(self, form: Form) -> bool:
        """Ask for the form's inputs (Slack: a modal for the command's or button's trigger_id; the
        console: one question at a time). False when it cannot be opened now: answer without it."""

    async def answer_form(self, problems: Mapping[str, str]) -> None:
        """Answer a submitted form, first thing: the problems per input name are shown at their inputs
        (the form stays open); none closes it. Slack wants this answer within 3 seconds."""
