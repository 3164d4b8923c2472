"""This process in the state store: its heartbeat, the work it holds, cancel requests addressed to that
work, and the dbt slots every replica shares (tables in state_schema.py, version 6).

Why in the store: behind a load balancer a Cancel press or `/amd test cancel` may reach a replica that
is not running the dbt invocation, and a per-process gate lets N replicas run N times the limit. So
each process registers under an owner id, new at every start, and beats a heartbeat; work it holds and
slots it takes carry that id. A replica whose heartbeat is older than the TTL is dead: its slots are
free again and its work is lost (reconciled by commands/test/lifecycle.py on whichever replica ticks).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.foundation.inflight import InFlight
from bot.foundation.ports import BackendUnavailable
from bot.state.schema import dbt_slots, held_work, replicas

log = logging.getLogger(__name__)
OnCancel = Callable[[], Awaitable[bool]]  # True once the work is stopping; False: ask again next poll
SLOT_POLL_S = 0.5  # how often a run waiting for a shared dbt slot tries again
_ROUND_BOUND_S = 5.0  # a close waits this long for a heartbeat round under way


class Leases:
    def __init__(self, engine: AsyncEngine, *, ttl_s: float, poll_s: float) -> None:
        self._engine = engine
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._ttl = timedelta(seconds=ttl_s)
        self._poll_s = poll_s
        self._held: dict[str, OnCancel] = {}
        self._asked: set[str] = set()  # cancel requests delivered to their work already
        self.work = InFlight()  # what this process holds, until each release is written
        self._loop: asyncio.Task[None] | None = None
        self._closing = asyncio.Event()
        self.stopping = False

    @property
    def held(self) -> int:
        return len(self._held)

    def alive(self, now: datetime) -> Select[Any]:
        """Owner ids of the replicas whose heartbeat is recent: their work and slots are theirs."""
        return select(replicas.c.owner).where(replicas.c.heartbeat_at >= now - self._ttl)

    async def start(self) -> None:
        now = _now()
        async with self._engine.begin() as conn:
            await conn.execute(insert(replicas).values(owner=self.owner, started_at=now, heartbeat_at=now))
        self._loop = asyncio.create_task(self._keep_alive())

    async def close(self) -> None:
        """A clean stop: whatever this process held is gone with it, so no replica waits for its TTL."""
        if self._loop is not None:
            # Ended between rounds, not cancelled inside one: a task cancelled while it checks out a
            # pooled connection leaves that connection to the garbage collector.
            self._closing.set()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(_ROUND_BOUND_S):
                    await asyncio.shield(self._loop)
            self._loop.cancel()
            await asyncio.gather(self._loop, return_exceptions=True)
        async with self._engine.begin() as conn:
            await conn.execute(delete(dbt_slots).where(dbt_slots.c.owner == self.owner))
            await conn.execute(delete(held_work).where(held_work.c.owner == self.owner))
            await conn.execute(delete(replicas).where(replicas.c.owner == self.owner))

    @asynccontextmanager
    async def hold(self, key: str, kind: str, on_cancel: OnCancel) -> AsyncIterator[None]:
        """Hold `key` for the block: a cancel requested on any replica calls `on_cancel` here within
        a poll. A stopping process takes no new work."""
        if self.stopping:
            raise BackendUnavailable("amd-bot is restarting on this replica; ask again in a moment.")
        with self.work.one():  # until the release is written: a stop waits for it
            async with self._engine.begin() as conn:
                await conn.execute(
                    insert(held_work).values(key=key, kind=kind, owner=self.owner, started_at=_now())
                )
            self._held[key] = on_cancel
            try:
                yield
            finally:
                del self._held[key]
                self._asked.discard(key)
                await asyncio.shield(self._release(key))

    async def _release(self, key: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(delete(held_work).where(held_work.c.key == key))

    async def request_cancel(self, key: str, *, by: str) -> bool:
        """Ask whichever replica holds `key` to stop it; False when nobody holds it (it ended)."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                update(held_work).where(held_work.c.key == key).values(cancel_by=by, cancel_at=_now())
            )
        return result.rowcount == 1

    async def cancel_all(self) -> None:
        """Stop everything this process holds (a shutdown whose grace ran out), as requests: the poll
        delivers them and asks again while a run is not cancellable yet (between two steps)."""
        for key in list(self._held):
            await self.request_cancel(key, by="amd-bot shutdown")

    @asynccontextmanager
    async def dbt_slot(
        self, key: str, capacity: int, on_wait: Callable[[], Awaitable[None]]
    ) -> AsyncIterator[None]:
        """One of `capacity` dbt slots shared by every replica, for the block; `on_wait` once if none
        is free at first. Waiting polls, so cancelling the waiting task simply leaves."""
        slot = await self._take_slot(key, capacity)
        if slot is None:
            await on_wait()
        while slot is None:
            await asyncio.sleep(SLOT_POLL_S)
            slot = await self._take_slot(key, capacity)
        try:
            yield
        finally:
            await asyncio.shield(self._free_slot(slot))

    async def _take_slot(self, key: str, capacity: int) -> int | None:
        dialect = postgresql if self._engine.dialect.name == "postgresql" else sqlite
        now = _now()
        async with self._engine.begin() as conn:
            await conn.execute(delete(dbt_slots).where(dbt_slots.c.owner.not_in(self.alive(now))))
            for slot in range(capacity):
                taken = await conn.execute(
                    dialect.insert(dbt_slots)
                    .values(slot=slot, key=key, owner=self.owner, taken_at=now)
                    .on_conflict_do_nothing()
                )
                if taken.rowcount == 1:
                    return slot
        return None

    async def _free_slot(self, slot: int) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                delete(dbt_slots).where(dbt_slots.c.slot == slot, dbt_slots.c.owner == self.owner)
            )

    async def _keep_alive(self) -> None:
        """Beat the heartbeat (three times per TTL) and deliver cancel requests (every poll)."""
        beat_every = self._ttl.total_seconds() / 3
        last_beat = asyncio.get_running_loop().time()
        while not await _set_within(self._closing, min(self._poll_s, beat_every)):
            try:
                if asyncio.get_running_loop().time() - last_beat >= beat_every:
                    await self._beat()
                    last_beat = asyncio.get_running_loop().time()
                if self._held:
                    await self._deliver_cancels()
            except Exception:
                # The store may be briefly away; the next round tries again, the TTL allows a few misses.
                log.warning("replica %s: heartbeat or cancel poll failed", self.owner, exc_info=True)

    async def _beat(self) -> None:
        async with self._engine.begin() as conn:
            beat = await conn.execute(
                update(replicas).where(replicas.c.owner == self.owner).values(heartbeat_at=_now())
            )
            if beat.rowcount == 0:  # pruned while this process was paused for long: register again
                now = _now()
                await conn.execute(
                    insert(replicas).values(owner=self.owner, started_at=now, heartbeat_at=now)
                )

    async def _deliver_cancels(self) -> None:
        query = select(held_work.c.key).where(
            held_work.c.owner == self.owner, held_work.c.cancel_by.is_not(None)
        )
        async with self._engine.connect() as conn:
            keys: Sequence[str] = (await conn.execute(query)).scalars().all()
        for key in keys:
            on_cancel = self._held.get(key)
            if on_cancel is not None and key not in self._asked and await on_cancel():
                self._asked.add(key)


def _now() -> datetime:
    return datetime.now(UTC)


async def _set_within(event: asyncio.Event, seconds: float) -> bool:
    """Waits up to `seconds` for `event`; whether it is set."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()
    return event.is_set()
