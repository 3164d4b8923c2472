"""The world of the alert simulation (tests/support/alert_sim.py): one FakeSlack, replicas (each its own
engine and claim holder, its clock skewed) on one state store, the faults Slack injects, replica deaths
at any await point, and time passing by the store's clock."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import aiohttp
from pydantic import SecretStr
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from sqlalchemy import update

from bot.alerts.deliver import alert, send_digests
from bot.alerts.watch import sweep
from bot.core.backends import Backends
from bot.foundation.catalog import Catalog
from bot.foundation.ports import Orchestrator
from bot.foundation.settings import Settings
from bot.state.deliveries import deliveries
from bot.state.store import SqlState
from bot.surfaces.slack import SlackSurface, web_client, without_rate_limit_waits
from bot.wiring import build_backends
from tests.slack_fake.rate_limits import Limit
from tests.slack_fake.web_api import FakeSlack

LEASE_S = 120.0
RENOTIFY_S, SUPPRESS_S = 3600.0, 1800.0
MAX_SKEW_S = 600.0
REFUSALS = ("channel_not_found", "not_in_channel", "is_archived")
START = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
UNLIMITED: dict[str, Limit | None] = {
    m: None
    for m in (
        "chat.postMessage",
        "chat.update",
        "conversations.history",
        "conversations.replies",
        "conversations.list",
        "conversations.join",
    )
}


@dataclass
class World:
    slack: FakeSlack
    base: Backends
    url: str
    session: aiohttp.ClientSession
    concurrent: bool  # replicas tick at once (PostgreSQL) or in turn (SQLite's single writer)


@asynccontextmanager
async def world(settings: Settings, state_url: str) -> AsyncIterator[World]:
    async with FakeSlack(rate_limits=UNLIMITED) as slack, aiohttp.ClientSession() as session:
        configured = settings.model_copy(
            update={
                "slack_bot_token": SecretStr("xoxb-sim-token-0123456789"),
                "slack_api_url": slack.api_url,
                "state_url": SecretStr(state_url),
            }
        )
        base = await build_backends(configured)
        try:
            yield World(slack, base, state_url, session, concurrent=not state_url.startswith("sqlite"))
        finally:
            await base.close()


@asynccontextmanager
async def own_store(world: World, url: str) -> AsyncIterator[World]:
    """The same Slack and catalog on a store of one schedule's own: each tick reads only its own
    incidents and deliveries, so the 500th schedule costs what the first does."""
    state = SqlState(url)
    try:
        yield replace(world, base=replace(world.base, state=state), url=url)
    finally:
        await state.close()


class Replica:
    """With an orchestrator, each tick sweeps it first (the watcher); without, the incidents are written
    to the store by the schedule itself, and the replica only tells them."""

    def __init__(
        self, world: World, settings: Settings, skew_s: float, orchestrator: Orchestrator | None = None
    ) -> None:
        self.world, self.settings, self.skew = world, settings, timedelta(seconds=skew_s)
        self.state = SqlState(world.url)  # a new process: a new engine and claim holder
        self.orchestrator = orchestrator
        self.backends = replace(
            world.base,
            state=self.state,
            settings=settings,
            orchestrator=orchestrator or world.base.orchestrator,
            catalog=Catalog(entities={}, nodes={}, sources={}, owners={}),  # its DAGs are the orchestrator's
        )
        client = without_rate_limit_waits(web_client(settings, world.session))
        for handler in client.retry_handlers:  # retried at once: a schedule's time is the store's ageing
            handler.interval_calculator = FixedValueRetryIntervalCalculator(0.0)
        self.surface = SlackSurface(client)

    async def tick(self, now: datetime) -> list[str]:
        swept = await sweep(self.backends, now=now + self.skew) if self.orchestrator else None
        told = await alert(self.backends, self.surface, now=now + self.skew, lease_s=LEASE_S)
        await send_digests(
            self.backends,
            self.surface,
            now=now + self.skew,
            unreadable=swept.unreadable if swept else {},
            lease_s=LEASE_S,
            pause=lambda seconds: age_store(self.world, "", seconds),  # the store's clock moves on
        )
        return told


def inject_faults(rng: random.Random, slack: FakeSlack, channels: list[str]) -> None:
    for _ in range(rng.randint(0, 3)):
        channel = rng.choice(channels)
        kind = rng.choice(("429", "5xx after accepting", "lost", "5xx", "edit 429", "edit lost"))
        if kind.startswith("edit"):  # chat.update is Tier 3: a recovery edit waits its Retry-After
            lost = kind == "edit lost"
            slack.fail_next("chat.update", status=429, lost=lost, retry_after=1, channel=channel)
        elif kind == "429":
            slack.fail_next("chat.postMessage", status=429, retry_after=1, channel=channel)
        elif kind == "lost":
            slack.fail_next("chat.postMessage", lost=True, channel=channel)
        else:
            slack.fail_next("chat.postMessage", status=500, accepted=kind != "5xx", channel=channel)


async def tick_all(
    rng: random.Random,
    world: World,
    settings: Settings,
    replicas: list[Replica],
    now: datetime,
    kill_p: float,
) -> list[Replica]:
    victim = rng.randrange(len(replicas)) if rng.random() < kill_p else None
    if world.concurrent:
        tasks = [asyncio.create_task(r.tick(now)) for r in replicas]
        if victim is not None:
            await asyncio.sleep(rng.uniform(0, 0.03))
            await _kill(tasks[victim], replicas[victim])
        results = await asyncio.gather(*tasks, return_exceptions=True)
    else:  # one after another (SQLite has one writer: concurrent replicas mostly wait for its lock)
        results = []
        for n, replica in enumerate(replicas):
            task = asyncio.create_task(replica.tick(now))
            if n == victim:
                await asyncio.sleep(rng.uniform(0, 0.01))
                await _kill(task, replica)
            results += await asyncio.gather(task, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
            raise result
    if victim is None:
        return replicas
    await asyncio.sleep(0.01)  # a request the dead replica sent may still land
    dead = replicas[victim]
    return [
        *replicas[:victim],
        Replica(world, settings, dead.skew.total_seconds(), dead.orchestrator),
        *replicas[victim + 1 :],
    ]


async def _kill(task: asyncio.Task[list[str]], replica: Replica) -> None:
    """Cancelled at an await, and its connections closed at once, as a dead process's are: its locks
    and open transactions go with it (the others do not wait on them), its claims stay."""
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await replica.state.close()


async def age_store(world: World, ns: str, seconds: float) -> None:
    """Time passes by the store's clock for this schedule's deliveries."""
    d = deliveries.c
    async with world.base.state.engine.begin() as conn:
        await conn.execute(
            update(deliveries)
            .where(d.key.contains(ns))
            .values(
                claimed_s=d.claimed_s - seconds, retry_s=d.retry_s - seconds, created_s=d.created_s - seconds
            )
        )


def message_keys(slack: FakeSlack, channels: list[str]) -> list[str]:
    return [
        str(m["metadata"]["event_payload"]["key"])
        for c in channels
        for m in slack.workspace._messages.get(c, {}).values()
        if m.get("metadata")
    ]
