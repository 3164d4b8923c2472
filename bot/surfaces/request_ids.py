"""A request id for every Slack request, in every log line of its handling (bot/foundation/logs.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from slack_bolt.response import BoltResponse

from bot.foundation.logs import request_scope


async def with_request_id(next_: Callable[[], Awaitable[BoltResponse]]) -> BoltResponse:
    # Bolt starts the listener's task inside `next()`: the task copies the id with the context.
    with request_scope():
        return await next_()
