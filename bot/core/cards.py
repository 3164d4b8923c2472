"""Live cards: a message posted once and re-rendered by the scheduler until it settles.

A command that shows something still changing (a DAG run, a migration) posts its card with
`follow(...)` and declares a `refresh` function that renders MANY cards of its kind at once (one
batch call to its backend per tick). The tick posts only cards whose render changed, adds the
refresh's notes to each card's thread, and when a card settles mentions whoever asked for it.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, update

from bot.core.surface import CardRef, Surface
from bot.render.message import Message, Text
from bot.state.schema import live_cards

if TYPE_CHECKING:
    from bot.core.backends import Backends

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LiveCard:
    id: int
    kind: str
    key: str
    ref: CardRef
    requester: str
    memo: Mapping[str, Any]
    fingerprint: str
    version: int


@dataclass(frozen=True)
class CardUpdate:
    message: Message
    memo: Mapping[str, Any] = field(default_factory=dict)
    notes: tuple[Message, ...] = ()  # posted in the card's thread, once


Refresh = Callable[[Sequence[LiveCard], "Backends"], Awaitable[Mapping[int, CardUpdate]]]


def fingerprint(message: Message) -> str:
    return hashlib.sha256(json.dumps(asdict(message), default=str, sort_keys=True).encode()).hexdigest()


async def follow(
    backends: Backends,
    surface: Surface,
    *,
    kind: str,
    key: str,
    message: Message,
    requester: str,
    memo: Mapping[str, Any] | None = None,
) -> CardRef:
    """Post a card where the command was typed and keep it updated until it settles."""
    ref = await surface.post(message)
    now = datetime.now(UTC)
    async with backends.state.engine.begin() as conn:
        await conn.execute(
            insert(live_cards).values(
                kind=kind,
                key=key,
                channel=ref.channel,
                ts=ref.ts,
                requester=requester,
                memo=dict(memo or {}),
                fingerprint=fingerprint(message),
                settled=not message.live,
                version=0,
                created_at=now,
                updated_at=now,
            )
        )
    return ref


async def unsettled(backends: Backends) -> list[LiveCard]:
    async with backends.state.engine.connect() as conn:
        rows = (await conn.execute(select(live_cards).where(live_cards.c.settled.is_(False)))).mappings()
        return [
            LiveCard(
                r["id"],
                r["kind"],
                r["key"],
                CardRef(r["channel"], r["ts"]),
                r["requester"],
                r["memo"],
                r["fingerprint"],
                r["version"],
            )
            for r in rows
        ]


async def tick(backends: Backends, surface: Surface, kinds: Mapping[str, Refresh]) -> int:
    """One refresh of every unsettled card; returns how many cards were updated."""
    cards = await unsettled(backends)
    updated = 0
    for kind, refresh in kinds.items():
        batch = [c for c in cards if c.kind == kind]
        if not batch:
            continue
        try:
            updates = await refresh(batch, backends)
        except Exception:
            # One failing backend must not stop the other kinds' cards; the next tick retries.
            log.exception("refreshing %d %s card(s) failed", len(batch), kind)
            continue
        for card in batch:
            if card.id in updates:
                updated += await _apply(backends, surface, card, updates[card.id])
    return updated


async def _apply(backends: Backends, surface: Surface, card: LiveCard, change: CardUpdate) -> int:
    new = fingerprint(change.message)
    settled = not change.message.live
    if new == card.fingerprint and not change.notes and not settled and change.memo == card.memo:
        return 0
    async with backends.state.engine.begin() as conn:
        claimed = await conn.execute(
            update(live_cards)
            .where(live_cards.c.id == card.id, live_cards.c.version == card.version)
            .values(
                fingerprint=new,
                memo=dict(change.memo),
                settled=settled,
                version=card.version + 1,
                updated_at=datetime.now(UTC),
            )
        )
    if claimed.rowcount != 1:
        return 0  # another replica applied this tick's change
    if new != card.fingerprint:
        await surface.update(card.ref, change.message)
    for note in change.notes:
        await surface.post(note, channel=card.ref.channel, thread=card.ref)
    if settled:
        who = " ".join(f"<@{u}>" for u in (card.requester, *change.message.mentions) if u)
        await surface.post(
            Message((Text(f"{who} {change.message.fallback}"),), fallback=change.message.fallback),
            channel=card.ref.channel,
            thread=card.ref,
        )
    return int(new != card.fingerprint)
