"""Give-backs the store could not take when they were due, kept in the process until it can.

A replica that claimed something (a live card's lease, an effect's claim) and then lost the store
before giving it back is alive and knows what it holds: it gives it back on its next try once the
store answers, instead of leaving it until its lease runs out (minutes of a frozen card after a
database restart). A replica that died holds nothing here; for it the lease remains the remedy.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

Write = Callable[[], Awaitable[object]]


class Owed:
    def __init__(self) -> None:
        self._writes: list[Write] = []

    async def give_back(self, write: Write) -> None:
        """Run `write`; if it fails, keep it for `repay` and raise as it did."""
        try:
            await write()
        except Exception:
            self._writes.append(write)
            raise

    async def repay(self) -> None:
        """Run every kept write, oldest first; those that fail again are kept for the next time.
        Each write must be idempotent and guarded (a version, a key): it may run after others moved on."""
        owed, self._writes = self._writes, []
        for i, write in enumerate(owed):
            try:
                await write()
            except Exception:
                self._writes[:0] = owed[i:]
                log.info("the state store still refuses %d give-back(s): next time", len(owed) - i)
                return
