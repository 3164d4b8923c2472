"""Admission for dbt subprocesses: a FIFO gate that tells each waiter its place in line, and the
writer lock that keeps dbt invocations on one DuckDB file from overlapping.

Why a writer lock: DuckDB lets one process open a database file read-write, and dbt-duckdb opens it
read-write for every command (tests too: `--store-failures` writes the failing rows). A second dbt on
the same file fails with "Could not set lock on file". So every dbt invocation on a DuckDB warehouse
(`DbtCliRunner` tests and freshness, `LocalRunner` builds) holds the file's `WriterLock` while its
process lives: one FIFO per file within this process, plus an `flock` on a sidecar file so another
process that takes the same lock (a second bot, the demo build) waits too. Snowflake has no such
limit; there the runner's `FifoGate(dbt_max_concurrency)` and the slots every replica shares
(`state_leases.py`) admit.

The alternative (a per-run profile attaching the warehouse read-only, failures stored in a per-run
DuckDB file) was rejected: the failing rows would not be readable through the Warehouse port, and
`dbt build` must write to the warehouse anyway.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from bot.foundation.settings import Settings

PositionCallback = Callable[[int], Awaitable[None]]
_FLOCK_POLL_S = 0.2  # polling keeps the wait cancellable; a thread blocked in flock() could not be


class _Waiter:
    __slots__ = ("changed", "granted")

    def __init__(self) -> None:
        self.changed = asyncio.Event()
        self.granted = False


class FifoGate:
    """At most `capacity` holders at once; waiters are admitted in arrival order."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._holders = 0
        self._waiters: deque[_Waiter] = deque()

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    @asynccontextmanager
    async def slot(self, on_position: PositionCallback | None = None) -> AsyncIterator[None]:
        """Hold a slot for the block. While waiting, `on_position(n)` is awaited whenever the place
        in line changes (1 = next). Cancelling the waiting task leaves the line."""
        await self._acquire(on_position)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, on_position: PositionCallback | None) -> None:
        if self._holders < self._capacity and not self._waiters:
            self._holders += 1
            return
        waiter = _Waiter()
        self._waiters.append(waiter)
        try:
            shown = 0
            while not waiter.granted:
                # Cleared before reading the position, so a change during the callback is not lost.
                waiter.changed.clear()
                position = self._waiters.index(waiter) + 1
                if on_position is not None and position != shown:
                    shown = position
                    await on_position(position)
                await waiter.changed.wait()
        except BaseException:
            if waiter.granted:
                self._release()  # admitted while being cancelled: hand the slot on
            else:
                self._waiters.remove(waiter)
                self._notify()
            raise

    def _release(self) -> None:
        self._holders -= 1
        if self._waiters and self._holders < self._capacity:
            admitted = self._waiters.popleft()
            admitted.granted = True
            self._holders += 1
            admitted.changed.set()
        self._notify()

    def _notify(self) -> None:
        for waiter in self._waiters:
            waiter.changed.set()


class WriterLock:
    """One writer at a time on a DuckDB file: FIFO within this process, flock across processes."""

    def __init__(self, database: Path) -> None:
        self.database = database
        self.lock_file = database.with_name(database.name + ".writer-lock")
        self._gate = FifoGate(1)

    @property
    def waiting(self) -> int:
        return self._gate.waiting

    @asynccontextmanager
    async def hold(self, on_position: PositionCallback | None = None) -> AsyncIterator[None]:
        async with self._gate.slot(on_position):
            fd = await self._flock()
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)

    async def _flock(self) -> int:
        self.lock_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return fd
                except BlockingIOError:
                    await asyncio.sleep(_FLOCK_POLL_S)
        except BaseException:
            os.close(fd)
            raise


_LOCKS: dict[Path, WriterLock] = {}


def writer_lock(settings: Settings) -> WriterLock | None:
    """The process-wide lock of the configured DuckDB warehouse; None for Snowflake. Adapters are
    built separately (`bot/wiring.py`), so they meet here, keyed by the resolved file path."""
    if settings.warehouse != "duckdb":
        return None
    database = settings.warehouse_path.resolve()
    return _LOCKS.setdefault(database, WriterLock(database))
