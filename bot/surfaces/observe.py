"""A Bolt middleware every Slack request passes, over HTTP and Socket Mode alike: it gives the request
an id for every log line of its handling (bot/foundation/logs.py) and times it to its ack."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from slack_bolt.response import BoltResponse

from bot.foundation.logs import request_scope
from bot.foundation.metrics import ACK_SECONDS

_KINDS = frozenset({"block_actions", "event_callback", "url_verification", "view_submission", "shortcut"})


async def observe_request(
    body: Mapping[str, Any], next_: Callable[[], Awaitable[BoltResponse]]
) -> BoltResponse:
    # Bolt starts the listener's task inside `next_()` (the task copies the id with the context) and
    # returns from it once the listener acked (process_before_response=False): the ack's latency.
    with request_scope(), ACK_SECONDS.labels(request_kind(body)).time():
        return await next_()


def request_kind(body: Mapping[str, Any]) -> str:
    """A bounded label for a Slack request: `command`, or the payload's type (block_actions, …)."""
    if "command" in body:
        return "command"
    kind = body.get("type")
    return kind if kind in _KINDS else "other"
