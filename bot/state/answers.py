"""What help-channel answers keep across replicas: per-window question counts (rate limits), the
threads the bot answered in, with the question each last answered (so "and purchase?" can follow up),
the questions a clarifying reply's buttons point to, and which events are answered.

Counting is one atomic upsert per question, so two replicas counting the same user never lose a count.
An event is handled at least once: a replica holds it under a lease while it answers and marks it done
after; a retry of an event whose holder died (its lease ran out) is answered by whoever gets it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Integer,
    String,
    Table,
    Text,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.elements import ColumnElement

from bot.state.clock import db_now, db_time
from bot.state.schema import UtcDateTime, claims, metadata, processed_events

rate_windows = Table(
    "amd_rate_windows",
    metadata,
    Column("key", String(200), primary_key=True),  # e.g. "user:U123:29416813" (who, window index)
    Column("count", Integer, nullable=False),
    Column("at", UtcDateTime(), nullable=False, index=True),
)

answered_threads = Table(
    "amd_answered_threads",
    metadata,
    Column("channel", String(64), primary_key=True),
    Column("thread_ts", String(32), primary_key=True),
    Column("intent", String(64), nullable=False),
    Column("subject", String(200), nullable=True),  # the entity (or migration) the answer was about
    Column("at", UtcDateTime(), nullable=False, index=True),
)


# A clarifying reply's buttons carry this key: the question's text may be long, and is the asker's.
asked_questions = Table(
    "amd_asked_questions",
    metadata,
    Column("key", String(32), primary_key=True),
    Column("text", Text, nullable=False),
    Column("at", UtcDateTime(), nullable=False, index=True),
)
Handling = Literal["mine", "done", "held"]


@dataclass(frozen=True)
class Asked:
    intent: str
    subject: str | None


class AnswerState:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def count(self, key: str, *, window_s: float, now: datetime) -> tuple[int, str]:
        """Add one to `key`'s count in the current window of `window_s` seconds; returns the new count
        and the window's key. Windows are the store's clock's: replicas whose clocks disagree count in
        the same one (by their own clocks, each counted in a window of its own: the limit multiplied)."""
        window = _window(self._engine, key, window_s)
        dialect = postgresql if self._engine.dialect.name == "postgresql" else sqlite
        insert = dialect.insert(rate_windows).values(key=window, count=1, at=now)
        statement = insert.on_conflict_do_update(
            index_elements=[rate_windows.c.key], set_={"count": rate_windows.c.count + 1}
        ).returning(rate_windows.c.count, rate_windows.c.key)
        async with self._engine.begin() as conn:
            row = (await conn.execute(statement)).one()
        return int(row[0]), str(row[1])

    async def remember(self, channel: str, thread_ts: str, asked: Asked, *, now: datetime) -> None:
        dialect = postgresql if self._engine.dialect.name == "postgresql" else sqlite
        values = {"intent": asked.intent, "subject": asked.subject, "at": now}
        statement = (
            dialect.insert(answered_threads)
            .values(channel=channel, thread_ts=thread_ts, **values)
            .on_conflict_do_update(
                index_elements=[answered_threads.c.channel, answered_threads.c.thread_ts], set_=values
            )
        )
        async with self._engine.begin() as conn:
            await conn.execute(statement)

    async def recall(self, channel: str, thread_ts: str) -> Asked | None:
        """What the bot last answered in a thread; None when it never answered there."""
        c = answered_threads.c
        query = select(c.intent, c.subject).where(c.channel == channel, c.thread_ts == thread_ts)
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else Asked(row.intent, row.subject)

    async def keep_question(self, text: str, *, now: datetime) -> str:
        key = secrets.token_hex(12)
        async with self._engine.begin() as conn:
            await conn.execute(insert(asked_questions).values(key=key, text=text, at=now))
        return key

    async def question(self, key: str) -> str | None:
        query = select(asked_questions.c.text).where(asked_questions.c.key == key)
        async with self._engine.connect() as conn:
            return (await conn.execute(query)).scalar_one_or_none()

    async def take_event(self, event_id: str, *, lease_s: float) -> Handling:
        """ "mine": handle it (first delivery, or its holder's lease ran out: it died mid-answer);
        "done": answered already; "held": another delivery is being answered right now. The lease is
        aged by the store's clock: a replica whose clock is behind does not look dead to the others."""
        key = f"event:{event_id}"
        async with self._engine.begin() as conn:
            if (
                await conn.execute(
                    select(processed_events.c.event_id).where(processed_events.c.event_id == event_id)
                )
            ).first():
                return "done"
            # A lease run out is deleted, so the insert below succeeds for exactly one taker.
            ran_out = claims.c.at < db_time(self._engine, ago_s=lease_s)
            await conn.execute(delete(claims).where(claims.c.key == key, ran_out))
        try:
            async with self._engine.begin() as conn:
                await conn.execute(insert(claims).values(key=key, at=db_time(self._engine), holder="events"))
        except IntegrityError:
            return "held"
        return "mine"

    async def event_done(self, event_id: str, *, now: datetime) -> None:
        try:
            async with self._engine.begin() as conn:
                await conn.execute(insert(processed_events).values(event_id=event_id, at=now))
        except IntegrityError:
            pass  # a retry taken over after a long pause answered it too: done either way

    async def event_failed(self, event_id: str) -> None:
        """Give the lease back: Slack's next retry is answered at once."""
        async with self._engine.begin() as conn:
            await conn.execute(delete(claims).where(claims.c.key == f"event:{event_id}"))

    async def counted(self, key: str, *, window_s: float) -> int:
        """`key`'s count in the current window, without adding to it."""
        query = select(rate_windows.c.count).where(rate_windows.c.key == _window(self._engine, key, window_s))
        async with self._engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one_or_none() or 0)


def _window(engine: AsyncEngine, key: str, window_s: float) -> ColumnElement[str]:
    """`key` and the index of the store clock's current window of `window_s` seconds: "user:U1:29416813"."""
    elapsed = db_now(engine) / literal(float(window_s), Float())
    # PostgreSQL rounds a cast to integer, SQLite truncates (and may lack floor()): both floor here
    index = func.floor(elapsed) if engine.dialect.name == "postgresql" else elapsed
    return literal(f"{key}:", String()) + cast(cast(index, BigInteger()), String())
