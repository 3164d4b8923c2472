"""Live cards: a message posted once and re-rendered by the scheduler until it settles.

A command that shows something still changing (a DAG run, a migration) posts its card with
`follow(...)` and declares a `refresh` function that renders MANY cards of its kind at once (one
batch call to its backend per tick). The tick posts only cards whose render changed, adds the
refresh's notes to each card's thread, and when a card settles mentions whoever asked for it.

Every replica ticks. A card is claimed in the state store before Slack hears about it, and its state
advances only once Slack accepted (bot/state/cards.py). A refusal is the card's alone: a 429
sets the card's "not before" to Retry-After, a message that is gone for good retires the card, any
other error leaves it for a later tick. Nothing is kept to be re-sent later: the next due tick renders
afresh, so what reaches Slack after a wait is the newest state, never the delayed render.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.core.surface import MessageGone, RateLimited, Surface
from bot.foundation.ports import CardRef
from bot.render.message import Message, Text
from bot.state.cards import CardStore, LiveCard

if TYPE_CHECKING:
    from bot.core.backends import Backends
    from bot.state.store import SqlState

__all__ = ["CardUpdate", "LiveCard", "Refresh", "fingerprint", "follow", "tick", "unsettled"]
log = logging.getLogger(__name__)
# Longer than one card's Slack calls can take (slack_sdk's 30 s timeout, server-error retries): a
# replica that died mid-send holds its cards this long, after which another replica takes them over.
LEASE = timedelta(seconds=120)


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
    """Post a card where the command was typed and keep it updated until it settles. An older live
    card of the same kind and key stops updating and says so: one card per thing shown."""
    ref = await surface.post(message)
    replaced = await CardStore(backends.state.engine).add(
        kind=kind,
        key=key,
        ref=ref,
        requester=requester,
        memo=memo or {},
        fingerprint=fingerprint(message),
        settled=not message.live,
        now=datetime.now(UTC),
    )
    text = f":arrow_down: No longer updated: a newer card follows this in <#{ref.channel}>."
    for old in replaced:
        try:
            await surface.update(old, Message((Text(text),), fallback=text, public=True))
        except Exception:  # it is retired either way; the words are a courtesy
            log.warning("could not mark the replaced card %s in %s", old.ts, old.channel, exc_info=True)
    return ref


async def unsettled(backends: Backends) -> list[LiveCard]:
    return await CardStore(backends.state.engine).unsettled()


async def tick(backends: Backends, surface: Surface, kinds: Mapping[str, Refresh]) -> int:
    """One refresh of every card that is due; returns how many cards Slack accepted an update of."""
    store = CardStore(backends.state.engine)
    await backends.state.owed.repay()  # leases this process could not give back while the store was away
    cards = await store.unsettled(due_at=datetime.now(UTC))
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
                updated += await _apply(backends, store, surface, card, updates[card.id])
    return updated


async def _apply(
    backends: Backends, store: CardStore, surface: Surface, card: LiveCard, change: CardUpdate
) -> int:
    new = fingerprint(change.message)
    settled = not change.message.live
    if new == card.fingerprint and not change.notes and not settled and change.memo == card.memo:
        return 0
    now = datetime.now(UTC)
    if not await store.claim(card, now, LEASE):
        return 0  # another replica holds it, or changed it since this render
    every = timedelta(seconds=backends.settings.card_min_interval_s)
    give_back = backends.state.owed.give_back  # the lease ends even if the store goes away meanwhile
    try:
        sent = await _send(backends.state, store, surface, card, change, new)
    except MessageGone as gone:
        reason = str(gone)  # `gone` is unbound after this block; a give-back may run later
        await give_back(lambda: store.retire(card, reason, now))
        log.warning("live card %d (%s %s) retired: Slack answers %s", card.id, card.kind, card.key, gone)
        return 0
    except RateLimited as limited:
        wait = now + timedelta(seconds=limited.retry_after)
        await give_back(lambda: store.release(card, not_before=wait))
        log.info("live card %d waits %g s (rate limited)", card.id, limited.retry_after)
        return 0
    except Exception:
        await give_back(lambda: store.release(card, not_before=now + every))
        log.exception("live card %d (%s %s) not updated; a later tick retries", card.id, card.kind, card.key)
        return 0
    # A card's own budget: Slack allows chat.update ~50/min for the whole workspace.
    later = now + every if sent else None
    await give_back(lambda: store.finish(card, change.memo, settled=settled, not_before=later))
    return int(sent)


async def _send(
    state: SqlState, store: CardStore, surface: Surface, card: LiveCard, change: CardUpdate, new: str
) -> bool:
    """The update's effects in order; each is recorded (or claimed) as it happens, so a retry after a
    refusal halfway repeats none of those that Slack already took."""
    sent = new != card.fingerprint
    if sent:
        await surface.update(card.ref, change.message)
        await store.shown(card, new, datetime.now(UTC))
    for note in change.notes:
        await _once(state, f"card:{card.id}:note:{fingerprint(note)}", surface, note, card.ref)
    if not change.message.live:
        who = " ".join(f"<@{u}>" for u in (card.requester, *change.message.mentions) if u)
        said = Message((Text(f"{who} {change.message.fallback}"),), fallback=change.message.fallback)
        await _once(state, f"card:{card.id}:settled", surface, said, card.ref)
    return sent


async def _once(state: SqlState, key: str, surface: Surface, message: Message, thread: CardRef) -> None:
    if not await state.claim(key):
        return
    try:
        await surface.post(message, channel=thread.channel, thread=thread)
    except BaseException:
        await state.owed.give_back(lambda: state.release(key))  # not posted: the retry posts it
        raise
