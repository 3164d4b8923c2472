"""Slack's Web API rate limits as token buckets, per method (and per channel for chat.postMessage).

Slack documents a rate per minute for each tier and says bursts are tolerated without giving a size
(docs.slack.dev/apis/web-api/rate-limits). A token bucket models exactly that: `burst` calls may come
at once, then calls are admitted at `per_minute`. The burst sizes below are this fake's choice.

Tests compress time with `time_scale` (0.01: a Slack minute lasts 0.6 s) or replace a method's limit:
``FakeSlack(rate_limits={"chat.update": Limit(per_minute=60, burst=2)})``; ``None`` lifts a limit.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    """`burst` calls may come at once, then `per_minute` on average; `per_channel`: one bucket each."""

    per_minute: float
    burst: int
    per_channel: bool = False


TIER_1 = Limit(per_minute=1, burst=3)
TIER_2 = Limit(per_minute=20, burst=20)
TIER_3 = Limit(per_minute=50, burst=50)
TIER_4 = Limit(per_minute=100, burst=100)
# "1 message per second per channel; short bursts >1 allowed" (chat.postMessage, special tier).
POST_MESSAGE = Limit(per_minute=60, burst=3, per_channel=True)

DEFAULT_LIMITS: Mapping[str, Limit] = {
    "auth.test": TIER_4,
    "apps.connections.open": TIER_1,
    "chat.postMessage": POST_MESSAGE,
    "chat.postEphemeral": TIER_4,
    "chat.update": TIER_3,
    "chat.getPermalink": TIER_4,
    "conversations.replies": TIER_3,
    "conversations.history": TIER_3,
    "conversations.list": TIER_2,
    "views.open": TIER_4,
    "views.publish": TIER_4,
    "files.getUploadURLExternal": TIER_4,
    "files.completeUploadExternal": TIER_4,
    "usergroups.list": TIER_2,
    "users.info": TIER_4,
}


class RateLimiter:
    def __init__(
        self,
        limits: Mapping[str, Limit | None],
        *,
        time_scale: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive; lift a limit with `None` instead")
        self._limits = dict(limits)
        self._scale = time_scale
        self._clock = clock
        self._buckets: dict[tuple[str, str | None], tuple[float, float]] = {}  # key -> (tokens, at)

    def admit(self, method: str, channel: str | None = None) -> int | None:
        """None when the call may proceed; otherwise the whole seconds to wait (the Retry-After value)."""
        limit = self._limits.get(method)
        if limit is None:
            return None
        key = (method, channel if limit.per_channel else None)
        now = self._clock()
        rate = limit.per_minute / (60.0 * self._scale)  # tokens per real second
        tokens, at = self._buckets.get(key, (float(limit.burst), now))
        tokens = min(float(limit.burst), tokens + (now - at) * rate)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            return None
        self._buckets[key] = (tokens, now)
        # Retry-After is whole seconds on the wire; Slack never asks for less than one.
        return max(1, math.ceil((1.0 - tokens) / rate))
