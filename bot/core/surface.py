"""Where answers go: a Slack conversation or the local console. Handlers only see this Protocol."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.render.message import Message


@dataclass(frozen=True)
class CardRef:
    """A posted message that can be updated in place or replied to in a thread. Serialisable, so
    followed cards survive a restart (stored in the state store)."""

    channel: str
    ts: str


class Surface(Protocol):
    async def respond(self, message: Message) -> None:
        """Answer the person who asked: ephemeral unless `message.public`."""

    async def post(
        self, message: Message, *, channel: str | None = None, thread: CardRef | None = None
    ) -> CardRef:
        """A message the whole channel sees (default: where the command was typed), optionally in a thread."""

    async def update(self, ref: CardRef, message: Message) -> None:
        """Replace a posted card in place."""
