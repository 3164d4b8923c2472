"""What the multi-replica stories share: the settings of a realistic deployment (one migration that alerts
when it stalls, an ingest token, quick ticks), and Slack's side of a mix of traffic through a load
balancer: migration reports over HTTP, app mentions (and Slack's retries of them), and waiting on
FakeSlack's record."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from bot.foundation.migration_specs import MigrationSpec, SourceSpec
from tests.slack_fake.identity import BOT_USER_ID
from tests.support.bot import sign
from tests.support.replicas import SlackSide

MIGRATION = "orders_history"
MIGRATION_CHANNEL = "CMIG"
INGEST_TOKEN = "ingest-0f6c2a9e4b7d41c8a3e5f9b2d6c8e1a4"
STALL_AFTER_S = 4.0
ACT_WITHIN = 90.0  # what the bot is given to act, on a machine shared with other tests: wide


def migration_settings(poll_s: float = 1.0) -> dict[str, str]:
    """AMD_* settings (by name, as strings): one migration alerting its channel, ingest on, quick ticks."""
    spec = MigrationSpec(
        name=MIGRATION,
        target=f"amd.{MIGRATION}",
        sources=[SourceSpec(name="mongo", kind="mongodb", expected_rows=1_000)],
        channel=MIGRATION_CHANNEL,
        stall_after_s=STALL_AFTER_S,
    )
    return {
        "migrations": json.dumps([spec.model_dump(mode="json")]),
        "migration_ingest_token": INGEST_TOKEN,
        "poll_interval_s": str(poll_s),
        "card_min_interval_s": str(poll_s),
    }


async def until(condition: Callable[[], Awaitable[Any]], what: str, timeout: float = ACT_WITHIN) -> Any:
    """Wait for `condition()` to be truthy; returns it."""
    try:
        async with asyncio.timeout(timeout):
            while not (found := await condition()):
                await asyncio.sleep(0.2)
    except TimeoutError:
        raise AssertionError(f"not within {timeout:.0f} s: {what}") from None
    return found


def text_of(message: dict[str, Any]) -> str:
    return json.dumps(message.get("blocks", []), ensure_ascii=False) + str(message.get("text", ""))


async def report_chunk(front: SlackSide, chunk: str, rows: int) -> int:
    """A copy job's chunk report through the ingest API; the HTTP status."""
    headers = {"Authorization": f"Bearer {INGEST_TOKEN}", "Content-Type": "application/json"}
    body = {"source": "mongo", "chunk": chunk, "rows": rows}
    async with aiohttp.ClientSession() as http:
        url = f"{front.url}/migrations/{MIGRATION}/chunks"
        async with http.post(url, json=body, headers=headers) as resp:
            return resp.status


async def validate(front: SlackSide, rows: int) -> int:
    """The copy job's final count: the migration is done, its card settles."""
    headers = {"Authorization": f"Bearer {INGEST_TOKEN}", "Content-Type": "application/json"}
    async with aiohttp.ClientSession() as http:
        url = f"{front.url}/migrations/{MIGRATION}/validation"
        async with http.put(url, json={"source": "mongo", "target_rows": rows}, headers=headers) as resp:
            return resp.status


async def mention(front: SlackSide, event_id: str, *, channel: str, retry: int = 0) -> int:
    """An app_mention as the Events API posts it; `retry` > 0 is Slack's redelivery of the same event."""
    ts = f"{int(time.time())}.{abs(hash(event_id)) % 1_000_000:06d}"
    # a question put to the bot: a greeting alone in a channel gets no reply (commands/ask/about.no_reply)
    text = f"<@{BOT_USER_ID}> who owns payment?"
    event = {"type": "app_mention", "user": "U1", "text": text, "ts": ts, "channel": channel}
    body = json.dumps(
        {
            "type": "event_callback",
            "team_id": "T1",
            "api_app_id": "A1",
            "event_id": event_id,
            "event_time": int(time.time()),
            "event": event,
        }
    ).encode()
    headers = {**sign(body), "Content-Type": "application/json"}
    if retry:
        headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
    status, _ = await front.post(body, headers)
    return status


async def redeliver(front: SlackSide, event_id: str, *, channel: str, attempts: int = 40) -> list[int]:
    """Slack's redeliveries of one event until one is acknowledged (200). A redelivery that comes while a
    replica is still answering the event is refused (503): its lease is live, and were that replica to
    die, only a later redelivery could still get the event answered (at least once)."""
    statuses: list[int] = []
    for n in range(1, attempts + 1):
        statuses.append(await mention(front, event_id, channel=channel, retry=min(n, 3)))
        if statuses[-1] == 200:
            break
        await asyncio.sleep(0.5)
    return statuses
