"""Alert deliveries: one row per (incident, channel, notification) post, edit or thread line, version 9.

A delivery is a small state machine kept here so that every replica agrees on it:

    claimed ──▶ maybe_posted ──▶ posted
       ▲            │
       └── failed ◀─┘   (Slack refused: the destination is broken; retried with backoff)

`claimed` was never sent; `maybe_posted` was handed to Slack and may have landed (a lost response, a 5xx
after accepting, a replica killed mid-call), so whoever continues it looks for it in the channel first.
A row with no holder is waiting for its `retry_s`; a held one whose lease ran out is taken over by ONE
statement. Every time here is the database's own clock (PostgreSQL `now()`, SQLite `julianday('now')`),
so replicas whose clocks disagree still agree on who holds what.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import (
    Column,
    ColumnElement,
    Float,
    Integer,
    String,
    Table,
    Text,
    exists,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.state.clock import db_now
from bot.state.incidents import incidents
from bot.state.schema import metadata

DeliveryState = Literal["claimed", "maybe_posted", "posted", "failed"]
Kind = Literal["alert", "reply", "edit", "line", "digest", "problem"]

deliveries = Table(
    "amd_alert_deliveries",
    metadata,
    Column("key", String(400), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("incident", String(300), index=True),  # None for digests and delivery problems
    Column("channel", String(200), nullable=False),  # as configured (#name or id)
    Column("state", String(16), nullable=False, index=True),
    Column("holder", String(120)),  # None: nobody is sending it now
    Column("created_s", Float, nullable=False),  # database clock, epoch seconds
    Column("claimed_s", Float, nullable=False),
    Column("retry_s", Float),  # a row nobody holds may be taken again from then on
    Column("attempts", Integer, nullable=False, default=1),
    Column("error", String(100)),  # Slack's error of the last refusal
    Column("posted_channel", String(64)),  # the channel id Slack answered
    Column("ts", String(32)),
    Column("line", Text),  # what a thread line said: the incident's timeline
)


@dataclass(frozen=True)
class Taken:
    """A delivery this caller now holds: `state` says whether it may have been posted already."""

    state: DeliveryState
    created_s: float
    attempts: int


@dataclass(frozen=True)
class Delivery:
    key: str
    kind: str
    incident: str | None
    channel: str
    state: DeliveryState
    attempts: int
    error: str | None
    posted_channel: str | None
    ts: str | None
    line: str | None
    created_s: float
    retry_s: float | None


class Deliveries:
    def __init__(self, engine: AsyncEngine, *, holder: str, lease_s: float) -> None:
        self._engine = engine
        self.holder = holder
        self._lease_s = lease_s

    async def take(self, key: str, *, kind: Kind, channel: str, incident: str | None = None) -> Taken | None:
        """Claim `key` (first time) or take it over (its holder's lease ran out, or it waits for a retry
        that is due); None when it is posted, held by a live replica, or not due again yet."""
        dialect = postgresql if self._engine.dialect.name == "postgresql" else sqlite
        now = db_now(self._engine)
        d = deliveries.c
        async with self._engine.begin() as conn:
            new = await conn.execute(
                dialect.insert(deliveries)
                .values(
                    key=key,
                    kind=kind,
                    incident=incident,
                    channel=channel,
                    state="claimed",
                    holder=self.holder,
                    created_s=now,
                    claimed_s=now,
                    attempts=1,
                )
                .on_conflict_do_nothing()
                .returning(d.created_s)
            )
            created = new.scalar_one_or_none()
            if created is not None:
                return Taken("claimed", float(created), 1)
            # One statement: of several replicas racing for the same key, exactly one updates it.
            taken = await conn.execute(
                update(deliveries)
                .where(
                    d.key == key,
                    d.state != "posted",
                    ((d.holder.is_(None)) & ((d.retry_s.is_(None)) | (d.retry_s <= now)))
                    | ((d.holder.is_not(None)) & (d.claimed_s < now - self._lease_s)),
                )
                .values(holder=self.holder, claimed_s=now, attempts=d.attempts + 1)
                .returning(d.state, d.created_s, d.attempts)
            )
            row = taken.first()
        return None if row is None else Taken(row.state, float(row.created_s), int(row.attempts))

    async def sending(self, key: str, *, while_open: str | None = None) -> bool:
        """Mark a held delivery as handed to Slack; False when another replica took it over meanwhile,
        or, with `while_open`, when that incident is not open now: one statement, so an Acknowledge
        pressed while a tick was on its way to this post is seen right before the call, not after."""
        if while_open is None:
            return await self._set(key, mine=True, state="maybe_posted")
        i = incidents.c
        still = exists().where(i.key == while_open, i.state == "open")
        return await self._set(key, still, mine=True, state="maybe_posted")

    async def give_back(self, key: str, *, state: DeliveryState) -> None:
        """Not sent after all (see `sending`): left as it was, for when it is due again."""
        await self._release(key, state=state, retry_in_s=0.0)

    async def posted(self, key: str, *, channel: str, ts: str, line: str | None = None) -> None:
        await self._set(
            key, mine=False, state="posted", holder=None, posted_channel=channel, ts=ts, line=line
        )

    async def not_sent(self, key: str, *, retry_in_s: float) -> None:
        """Slack changed nothing (a 429): free to send again, without looking, after `retry_in_s`."""
        await self._release(key, state="claimed", retry_in_s=retry_in_s)

    async def unsure(self, key: str, *, retry_in_s: float) -> None:
        """The outcome is unknown: whoever continues looks for the post first."""
        await self._release(key, state="maybe_posted", retry_in_s=retry_in_s)

    async def failed(self, key: str, *, error: str, retry_in_s: float) -> None:
        await self._release(key, state="failed", retry_in_s=retry_in_s, error=error)

    async def get(self, key: str) -> Delivery | None:
        found = await self.where(deliveries.c.key == key)
        return found[0] if found else None

    async def where(self, *conditions: ColumnElement[bool]) -> list[Delivery]:
        d = deliveries.c
        async with self._engine.connect() as conn:
            rows = (await conn.execute(select(deliveries).where(*conditions).order_by(d.created_s))).all()
        return [
            Delivery(
                r.key,
                r.kind,
                r.incident,
                r.channel,
                r.state,
                r.attempts,
                r.error,
                r.posted_channel,
                r.ts,
                r.line,
                float(r.created_s),
                r.retry_s,
            )
            for r in rows
        ]

    async def many(self, keys: Collection[str]) -> list[Delivery]:
        return await self.where(deliveries.c.key.in_(list(keys))) if keys else []

    async def of(self, incidents: Collection[str]) -> list[Delivery]:
        """Every delivery about these incidents, oldest first (their threads and timelines)."""
        return await self.where(deliveries.c.incident.in_(list(incidents))) if incidents else []

    async def problems(self) -> list[Delivery]:
        """Destinations Slack refuses now: what `/amd alerts` lists."""
        return await self.where(deliveries.c.state == "failed", deliveries.c.kind != "problem")

    async def _release(
        self, key: str, *, state: DeliveryState, retry_in_s: float, error: str | None = None
    ) -> None:
        values: dict[str, Any] = {"retry_s": db_now(self._engine) + retry_in_s}
        if error is not None:
            values["error"] = error
        await self._set(key, mine=True, state=state, holder=None, **values)

    async def _set(self, key: str, *conditions: ColumnElement[bool], mine: bool, **values: Any) -> bool:
        d = deliveries.c
        query = update(deliveries).where(d.key == key, d.state != "posted", *conditions)
        if mine:
            query = query.where(d.holder == self.holder)
        async with self._engine.begin() as conn:
            done = await conn.execute(query.values(**values))
        return bool(done.rowcount)
