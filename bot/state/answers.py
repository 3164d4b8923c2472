"""What help-channel answers keep across replicas: per-window question counts (rate limits) and the
threads the bot answered in, with the question each last answered (so "and purchase?" can follow up).

Counting is one atomic upsert per question, so two replicas counting the same user never lose a count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Column, Integer, String, Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.state.schema import UtcDateTime, metadata

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


@dataclass(frozen=True)
class Asked:
    intent: str
    subject: str | None


class AnswerState:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def count(self, key: str, *, window_s: float, now: datetime) -> int:
        """Add one to `key`'s count in the current window of `window_s` seconds; returns the new count."""
        window = f"{key}:{int(now.timestamp() // window_s)}"
        dialect = postgresql if self._engine.dialect.name == "postgresql" else sqlite
        insert = dialect.insert(rate_windows).values(key=window, count=1, at=now)
        statement = insert.on_conflict_do_update(
            index_elements=[rate_windows.c.key], set_={"count": rate_windows.c.count + 1}
        ).returning(rate_windows.c.count)
        async with self._engine.begin() as conn:
            return int((await conn.execute(statement)).scalar_one())

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
