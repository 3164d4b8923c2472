"""`metered(adapter, system)`: the adapter behind its port, with every async call timed into
`amd_backend_call_seconds` by system, call and outcome. Wrapped once, where the backends are built,
so no adapter carries metrics code of its own."""

from __future__ import annotations

import functools
import inspect
import time
from typing import Any, TypeVar, cast

from bot.foundation.metrics import BACKEND_SECONDS, outcome_of

T = TypeVar("T")


def metered(adapter: T, system: str) -> T:
    # The proxy answers every attribute the port declares: typed as the port, it is one.
    return cast(T, _Metered(adapter, system))


class _Metered:
    def __init__(self, adapter: object, system: str) -> None:
        self._adapter = adapter
        self._system = system

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._adapter, name)
        if name.startswith("_") or name == "close" or not inspect.iscoroutinefunction(value):
            return value

        @functools.wraps(value)
        async def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            failure: BaseException | None = None
            try:
                return await value(*args, **kwargs)
            except BaseException as exc:
                failure = exc
                raise
            finally:
                elapsed = time.perf_counter() - started
                BACKEND_SECONDS.labels(self._system, name, outcome_of(failure)).observe(elapsed)

        return timed
