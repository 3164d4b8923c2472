"""The live cards' rows (bot/core/cards.py) on SqlState's engine: SQLite alone, PostgreSQL for replicas.

A card's update goes claim → send → record. `claim` bumps the card's version and leases it to one
replica, so one replica at a time talks to Slack about a card, and a render made before somebody
else's claim can no longer be sent. What Slack accepted is recorded afterwards (`shown`, `finish`);
what it refused is handed back with a time before which nobody tries again (`release`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.foundation.ports import CardRef
from bot.state.schema import live_cards

_C = live_cards.c
_ATTEMPTS = 3


@dataclass(frozen=True)
class LiveCard:
    id: int
    kind: str
    key: str
    ref: CardRef
    requester: str
    memo: Mapping[str, Any]
    fingerprint: str  # of the render Slack last accepted
    version: int


class CardStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def add(
        self,
        *,
        kind: str,
        key: str,
        ref: CardRef,
        requester: str,
        memo: Mapping[str, Any],
        fingerprint: str,
        settled: bool,
        now: datetime,
    ) -> list[CardRef]:
        """Store a new card; the live cards showing the same thing retire (returned, to be told so).
        A replica adding a card for the same key at the same moment makes the insert conflict:
        trying again retires that one, so the newest request wins."""
        row = {
            "kind": kind,
            "key": key,
            "channel": ref.channel,
            "ts": ref.ts,
            "requester": requester,
            "memo": dict(memo),
            "fingerprint": fingerprint,
            "settled": settled,
            "version": 0,
            "created_at": now,
            "updated_at": now,
        }
        attempt = 1
        while True:
            try:
                return await self._insert_replacing(row)
            except IntegrityError:
                if attempt == _ATTEMPTS:
                    raise
                attempt += 1

    async def _insert_replacing(self, row: dict[str, Any]) -> list[CardRef]:
        live = (_C.kind == row["kind"], _C.key == row["key"], _C.settled.is_(False))
        async with self.engine.begin() as conn:
            older = (await conn.execute(select(_C.id, _C.channel, _C.ts).where(*live))).all()
            # A version bump, so a replica still sending to an older card records nothing after.
            await conn.execute(
                update(live_cards)
                .where(*live)
                .values(
                    settled=True, retired="replaced", version=_C.version + 1, updated_at=row["updated_at"]
                )
            )
            await conn.execute(insert(live_cards).values(**row))
        return [CardRef(r.channel, r.ts) for r in older]

    async def unsettled(self, *, due_at: datetime | None = None) -> list[LiveCard]:
        """Cards still changing; with `due_at`, only those nobody holds and nobody asked to wait."""
        query = select(live_cards).where(_C.settled.is_(False)).order_by(_C.id)
        if due_at is not None:
            query = query.where(_due(due_at))
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
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

    async def claim(self, card: LiveCard, now: datetime, lease: timedelta) -> bool:
        """True for one replica, and only while the card is as `card` saw it (same version)."""
        stmt = (
            update(live_cards)
            .where(_C.id == card.id, _C.version == card.version, _C.settled.is_(False), _due(now))
            .values(version=card.version + 1, lease_until=now + lease)
        )
        return await self._changed(stmt)

    async def shown(self, card: LiveCard, fingerprint: str, now: datetime) -> None:
        """Slack accepted the render: a later tick compares against it."""
        await self._changed(_held(card).values(fingerprint=fingerprint, updated_at=now))

    async def finish(
        self, card: LiveCard, memo: Mapping[str, Any], *, settled: bool, not_before: datetime | None
    ) -> None:
        """Every effect of the update happened: the command's memory advances, the lease ends."""
        values = {"memo": dict(memo), "settled": settled, "lease_until": None, "not_before": not_before}
        await self._changed(_held(card).values(**values))

    async def release(self, card: LiveCard, *, not_before: datetime) -> None:
        """Slack did not take it: the state stays as it was, and the card is tried again from then."""
        await self._changed(_held(card).values(lease_until=None, not_before=not_before))

    async def retire(self, card: LiveCard, reason: str, now: datetime) -> None:
        await self._changed(
            _held(card).values(settled=True, retired=reason[:64], lease_until=None, updated_at=now)
        )

    async def _changed(self, stmt: Any) -> bool:
        async with self.engine.begin() as conn:
            result = await conn.execute(stmt)
        return bool(result.rowcount == 1)


def _due(now: datetime) -> ColumnElement[bool]:
    """Nobody holds the card and nobody asked to wait (Slack's Retry-After, the card's budget)."""
    return and_(
        or_(_C.lease_until.is_(None), _C.lease_until < now),
        or_(_C.not_before.is_(None), _C.not_before <= now),
    )


def _held(card: LiveCard) -> Any:
    # The claim moved the version on by one; if the lease ran out and someone else claimed the card
    # since, the version moved again and these writes change nothing.
    return update(live_cards).where(_C.id == card.id, _C.version == card.version + 1)
