"""Work this process took on and has not finished: a stop waits for it (bounded) before it closes the
stores, so what was acknowledged is finished, and no task is cut while it holds a pooled connection."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


class InFlight:
    def __init__(self) -> None:
        self._count = 0
        self._idle = asyncio.Event()  # set while nothing is under way
        self._idle.set()

    @property
    def count(self) -> int:
        return self._count

    @contextmanager
    def one(self) -> Iterator[None]:
        self._count += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._count -= 1
            if not self._count:
                self._idle.set()

    def tracked(self, work: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        """`work`, counted while it runs. The signature stays readable (functools.wraps): Bolt passes
        a listener the arguments its parameters name."""

        @functools.wraps(work)
        async def counted(*args: P.args, **kwargs: P.kwargs) -> R:
            with self.one():
                return await work(*args, **kwargs)

        return counted

    async def idle(self) -> None:
        await self._idle.wait()


async def settled(timeout_s: float, *works: InFlight) -> bool:
    """True once none of `works` has anything under way; False when `timeout_s` passed first."""
    try:
        async with asyncio.timeout(timeout_s):
            for work in works:
                await work.idle()
    except TimeoutError:
        return False
    return True
