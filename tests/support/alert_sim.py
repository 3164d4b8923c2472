"""A fault-injection simulation of alert delivery (issues 18 and 22), shared by the suite and
bench/alert_faults.py.

One schedule: three replicas (each its own engine and claim holder, its clock skewed up to ±10 min) on
one state store and one FakeSlack. Failures open, recover and fail again; people acknowledge and
snooze; Slack answers 429, fails after accepting, loses answers; one channel may refuse for good
(channel_not_found, not_in_channel, is_archived); a replica may be killed at any await point (its task
cancelled mid-call: whatever it held stays held until its lease runs out, as after a crash). Time in
the store passes by ageing its rows (the store's clock is the only one leases use). Then a calm phase,
and the invariants are checked on what Slack shows and what the store recorded.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import aiohttp
from pydantic import SecretStr
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from sqlalchemy import update

from bot.alerts.deliver import alert, send_digests
from bot.core.backends import Backends
from bot.foundation.alert_routes import AlertRoute
from bot.foundation.settings import Settings
from bot.state.deliveries import Deliveries, deliveries
from bot.state.incidents import Finding, Incidents
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


@dataclass
class Outcome:
    seed: int
    keys: int = 0  # (incident, channel, notification) deliveries checked
    posts: Counter[str] = field(default_factory=Counter)  # message key -> messages in Slack
    problems: int = 0
    first_told: dict[str, float] = field(default_factory=dict)  # incident -> sim seconds to its first alert
    violations: list[str] = field(default_factory=list)


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
    def __init__(self, world: World, settings: Settings, skew_s: float) -> None:
        self.world, self.settings, self.skew = world, settings, timedelta(seconds=skew_s)
        self.state = SqlState(world.url)  # a new process: a new engine and claim holder
        self.backends = replace(world.base, state=self.state, settings=settings)
        client = without_rate_limit_waits(web_client(settings, world.session))
        for handler in client.retry_handlers:  # retried at once: a schedule's time is the store's ageing
            handler.interval_calculator = FixedValueRetryIntervalCalculator(0.0)
        self.surface = SlackSurface(client)

    async def tick(self, now: datetime) -> list[str]:
        told = await alert(self.backends, self.surface, now=now + self.skew, lease_s=LEASE_S)
        await send_digests(
            self.backends,
            self.surface,
            now=now + self.skew,
            unreadable={},
            lease_s=LEASE_S,
            pause=lambda seconds: age_store(self.world, "", seconds),  # the store's clock moves on
        )
        return told


async def run(world: World, seed: int, *, incidents: int = 3, steps: int = 6, kill_p: float = 0.3) -> Outcome:
    rng = random.Random(seed)
    ns = f"s{seed}"
    slack = world.slack
    names = [f"{ns}-{c}" for c in "abc"]
    ids = {n: slack.create_channel(n) for n in names}
    fallback = slack.create_channel(f"{ns}-fallback")
    broken = rng.choice([None, *names]) if rng.random() < 0.6 else None
    if broken is not None:
        error = rng.choice(REFUSALS)
        slack.archive(ids[broken]) if error == "is_archived" else slack.refuse(ids[broken], error)
    routes = [
        AlertRoute(name=f"r{i}", channel=f"#{n}", dags=[f"{ns}_*"], schedule="0 * * * *")
        for i, n in enumerate(names[: rng.randint(1, 3)])
    ]
    settings = world.base.settings.model_copy(
        update={
            "alert_routes": routes,
            "alert_fallback_channel": fallback,
            "alert_renotify_s": RENOTIFY_S,
            "alert_suppress_s": SUPPRESS_S,
        }
    )
    replicas = [Replica(world, settings, rng.uniform(-MAX_SKEW_S, MAX_SKEW_S)) for _ in range(3)]
    store = Incidents(world.base.state.engine)
    outcome = Outcome(seed)
    dags = [f"{ns}_dag{i}" for i in range(incidents)]
    opened: dict[str, datetime] = {}
    acked: dict[str, set[str]] = {}  # incident -> its message keys when acknowledged
    snoozed_until: dict[str, datetime] = {}
    seen_at: dict[str, datetime] = {}  # message key -> sim time it was first seen in Slack
    now = START
    try:
        for _step in range(steps):
            now += timedelta(minutes=rng.choice((1, 5, 20, 45, 70)))
            await _change(rng, store, dags, now, opened, acked, snoozed_until, slack, ids, fallback)
            inject_faults(rng, slack, [*ids.values(), fallback])
            pressing = asyncio.create_task(_ack_in_tick(rng, world, store, opened, acked, snoozed_until, now))
            replicas = await tick_all(rng, world, settings, replicas, now, kill_p)
            await pressing
            _seen(slack, [*ids.values(), fallback], seen_at, now)
            if rng.random() < 0.5:
                await age_store(world, ns, LEASE_S + rng.uniform(1, 3 * LEASE_S))
        slack._failures.clear()  # faults injected but not met yet would go on failing the calm phase
        for _ in range(2):  # calm: no faults, no deaths; leases and backoffs run out
            await age_store(world, ns, 2 * 3600)
            now += timedelta(minutes=1)
            replicas = await tick_all(rng, world, settings, replicas, now, 0.0)
            _seen(slack, [*ids.values(), fallback], seen_at, now)
        await _check(
            world,
            ns,
            slack,
            [*ids.values(), fallback],
            broken,
            acked,
            snoozed_until,
            seen_at,
            opened,
            outcome,
        )
        outcome.violations += await _digest_windows(world, ns, routes, broken, now, set(outcome.posts))
    finally:
        for r in replicas:
            await r.state.close()
    return outcome


async def _change(
    rng: random.Random,
    store: Incidents,
    dags: list[str],
    now: datetime,
    opened: dict[str, datetime],
    acked: dict[str, set[str]],
    snoozed_until: dict[str, datetime],
    slack: FakeSlack,
    ids: dict[str, str],
    fallback: str,
) -> None:
    dag = rng.choice(dags)
    key = f"run:{dag}"
    roll = rng.random()
    if roll < 0.5 and key not in acked:
        await store.observe([_failed(dag, now)], (), now)
        opened.setdefault(key, now)
    elif roll < 0.7:
        await store.observe((), {key}, now)
    elif roll < 0.8 and key in opened and key not in snoozed_until:
        if await store.act(key, "acknowledged", by="U_SIM", now=now, until=None):
            acked[key] = {
                k for k in message_keys(slack, [*ids.values(), fallback]) if k.startswith(f"alert:{key}:")
            }
    elif roll < 0.9 and key in opened and key not in acked:
        until = now + timedelta(minutes=30)
        if await store.act(key, "snoozed", by="U_SIM", now=now, until=until):
            snoozed_until[key] = until


async def _ack_in_tick(
    rng: random.Random,
    world: World,
    store: Incidents,
    opened: dict[str, datetime],
    acked: dict[str, set[str]],
    snoozed_until: dict[str, datetime],
    now: datetime,
) -> None:
    """Acknowledge pressed at a random point of the replicas' tick. What may still land after it is
    what was already handed to Slack (maybe posted) when it was pressed; nothing else."""
    candidates = sorted(k for k in opened if k not in acked and k not in snoozed_until)
    if not candidates or rng.random() < 0.6:
        return
    key = rng.choice(candidates)
    await asyncio.sleep(rng.uniform(0, 0.02))
    if not await store.act(key, "acknowledged", by="U_SIM", now=now, until=None):
        return
    d = deliveries.c
    handed = await Deliveries(world.base.state.engine, holder="check", lease_s=LEASE_S).where(
        d.key.startswith(f"alert:{key}:"), d.state.in_(("maybe_posted", "posted"))
    )
    shown = message_keys(world.slack, list(world.slack.workspace._messages))
    acked[key] = {r.key for r in handed} | {k for k in shown if k.startswith(f"alert:{key}:")}


def _failed(dag: str, now: datetime) -> Finding:
    return Finding(
        key=f"run:{dag}",
        kind="run",
        subject=dag,
        summary=f"DAG `{dag}` failed (run `scheduled__{now:%H%M}`)",
        severity="critical",
        dag=dag,
        detail={"run_id": f"scheduled__{now:%H%M}"},
    )


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
            tasks[victim].cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
    else:  # one after another (SQLite has one writer: concurrent replicas mostly wait for its lock)
        results = []
        for n, replica in enumerate(replicas):
            task = asyncio.create_task(replica.tick(now))
            if n == victim:
                await asyncio.sleep(rng.uniform(0, 0.01))
                task.cancel()
            results += await asyncio.gather(task, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
            raise result
    if victim is None:
        return replicas
    await asyncio.sleep(0.01)  # a request the dead replica sent may still land
    dead = replicas[victim]
    await dead.state.close()
    return [*replicas[:victim], Replica(world, settings, dead.skew.total_seconds()), *replicas[victim + 1 :]]


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


def _seen(slack: FakeSlack, channels: list[str], seen_at: dict[str, datetime], now: datetime) -> None:
    for key in message_keys(slack, channels):
        seen_at.setdefault(key, now)


async def _check(
    world: World,
    ns: str,
    slack: FakeSlack,
    channels: list[str],
    broken: str | None,
    acked: dict[str, set[str]],
    snoozed_until: dict[str, datetime],
    seen_at: dict[str, datetime],
    opened: dict[str, datetime],
    outcome: Outcome,
) -> None:
    bad = outcome.violations
    outcome.posts = Counter(message_keys(slack, channels))
    bad += [f"{k} posted {n} times" for k, n in outcome.posts.items() if n > 1]
    rows = await Deliveries(world.base.state.engine, holder="check", lease_s=LEASE_S).where(
        deliveries.c.key.contains(ns)
    )
    incidents = {i.key: i for i in await Incidents(world.base.state.engine).all(since=START)}
    for row in rows:
        inc = incidents.get(row.incident or "")
        current = inc is not None and inc.state == "resolved" and inc.resolved_at is not None
        if (
            row.key.startswith("recovered")
            and current
            and inc
            and str(inc.resolved_at and inc.resolved_at.isoformat()) in row.key
        ):
            # A recovery's edit and line, for an incident still resolved: done, or refused where refusing.
            refused = row.state == "failed" and broken is not None and row.channel == f"#{broken}"
            if row.state != "posted" and not refused:
                bad.append(f"{row.key}: {row.state}")
        if row.kind in ("edit", "problem") or row.incident is None:
            continue
        inc = incidents.get(row.incident)
        settled = (
            inc is not None
            and row.key.startswith(f"alert:{inc.key}:")
            and _number(row.key, inc.key) < inc.notified
        )
        if not settled:
            continue
        outcome.keys += 1
        posted = outcome.posts.get(row.key, 0)
        if row.state == "failed":
            outcome.problems += 1
            if broken is None or f"#{broken}" != row.channel:
                bad.append(f"{row.key} refused ({row.error}) in a working channel")
        elif not (row.state == "posted" and posted == 1):
            bad.append(f"{row.key}: {row.state} with {posted} message(s)")
    if broken is not None and any(r.state == "failed" and r.kind != "problem" for r in rows):
        problems = [k for k in outcome.posts if k.startswith(f"problem:#{broken}:")]
        if len(problems) != 1:
            bad.append(f"delivery problem for #{broken} told {len(problems)} times")
    for incident, before in acked.items():
        after = {k for k in outcome.posts if k.startswith(f"alert:{incident}:")}
        if after - before:
            bad.append(f"{incident}: posted after Acknowledge: {sorted(after - before)}")
    for incident, until in snoozed_until.items():
        told = sorted(at for k, at in seen_at.items() if k.startswith(f"alert:{incident}:") and at >= until)
        numbers = sorted(
            {
                _number(k, incident)
                for k, at in seen_at.items()
                if k.startswith(f"alert:{incident}:") and at >= until
            }
        )
        times = sorted(
            {min(at for k, at in seen_at.items() if k.startswith(f"alert:{incident}:{n}:")) for n in numbers}
        )
        gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
        if (
            any(g < RENOTIFY_S - 2 * MAX_SKEW_S - 60 for g in gaps)
            and incidents[incident].opened_at
            and incidents[incident].opened_at < until
        ):
            bad.append(f"{incident}: told {len(told)} times after its snooze ended, gaps {gaps}")
    for incident, at in opened.items():
        first = [t for k, t in seen_at.items() if k.startswith(f"alert:{incident}:0:")]
        if first:
            outcome.first_told[incident] = (min(first) - at).total_seconds()


async def _digest_windows(
    world: World, ns: str, routes: list[AlertRoute], broken: str | None, now: datetime, shown: set[str]
) -> list[str]:
    """No digest window lost or doubled: each (route, channel) digest is posted at most once per
    window (its key), a posted digest's details are posted too, and once every replica's clock is past
    a window it was sent (or found quiet): the watermark is past it. A refusing channel is excluded
    (it is a delivery problem instead)."""
    bad = []
    d = deliveries.c
    rows = await Deliveries(world.base.state.engine, holder="check", lease_s=LEASE_S).where(
        d.kind == "digest", d.key.contains(ns)
    )
    states = {r.key: r.state for r in rows}
    newest: dict[str, str] = {}  # (route, channel) -> its newest posted window
    for key, state in states.items():
        where, window = _window(key)
        if state == "posted" and not key.endswith(":details"):
            newest[where] = max(newest.get(where, ""), window)
    for key, state in states.items():
        where, window = _window(key)
        if (
            key.endswith(":details")
            and key not in shown  # maybe posted, and it was: in Slack
            and states.get(key.removesuffix(":details")) == "posted"
        ) and newest[where] <= window:  # a later digest covers since the same mark: nothing is lost
            bad.append(f"{key}: its digest is posted, its details {state}, and no later one covers them")
    store = Incidents(world.base.state.engine)
    settled = now - timedelta(seconds=MAX_SKEW_S)
    for route in routes:
        if route.channel is None or route.channel == f"#{broken}":
            continue
        mark = await store.mark(f"digest:{route.name}:{route.channel}")
        due = route.trigger().get_next_fire_time(None, settled - timedelta(hours=1))
        if mark is not None and due is not None and mark < due <= settled:
            bad.append(f"digest:{route.name}:{route.channel}: window {due:%H:%M} lost (mark {mark:%H:%M})")
    return bad


def _window(key: str) -> tuple[str, str]:
    """digest:<route>:<channel>:<window>[:details] → (digest:<route>:<channel>, <window>)."""
    kind, route, channel, window = key.split(":", 3)
    return f"{kind}:{route}:{channel}", window.removesuffix(":details")


def _number(key: str, incident: str) -> int:
    part = key[len(f"alert:{incident}:") :].split(":", 1)[0]
    return int(part) if part.isdigit() else -1
