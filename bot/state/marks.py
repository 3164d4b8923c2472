"""The alert marks: named instants (the watcher's "runs read up to", each digest's (route, channel) "told
up to"), version 7. Kept beside the incidents (bot/state/incidents.py, whose store reads and moves them)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import Column, String, Table, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.state.schema import UtcDateTime, metadata

# Named instants: the watcher's "runs read up to", each digest's (route, channel) "told up to".
alert_marks = Table(
    "amd_alert_marks",
    metadata,
    Column("name", String(400), primary_key=True),
    Column("at", UtcDateTime(), nullable=False),
)


class Marks:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def mark(self, name: str) -> datetime | None:
        async with self._engine.connect() as conn:
            found = await conn.execute(select(alert_marks.c.at).where(alert_marks.c.name == name))
            return found.scalar_one_or_none()

    async def set_mark(self, name: str, at: datetime) -> None:
        """Move a mark forward (never back: a slow replica's older write loses)."""
        await self.set_marks({name: at})

    async def set_marks(self, marks: Mapping[str, datetime]) -> None:
        """Move several marks forward in one transaction (a sweep moves one per source it read)."""
        c = alert_marks.c
        async with self._engine.begin() as conn:
            known: set[str] = set(
                (await conn.execute(select(c.name).where(c.name.in_(list(marks))))).scalars()
            )
            # in one order on every replica: two sweeps moving the same marks in the orders their sources
            # answered in lock each other's rows crosswise, and PostgreSQL aborts one as a deadlock
            for name, at in sorted(marks.items()):
                if name in known:
                    await conn.execute(update(alert_marks).where(c.name == name, c.at < at).values(at=at))
                    continue
                try:
                    async with conn.begin_nested():  # another replica may insert it first
                        await conn.execute(insert(alert_marks).values(name=name, at=at))
                except IntegrityError:
                    await conn.execute(update(alert_marks).where(c.name == name, c.at < at).values(at=at))
