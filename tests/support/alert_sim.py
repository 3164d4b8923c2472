"""A fault-injection simulation of alerts (issues 18 and 22), shared by the suite and
bench/alert_faults.py.

One schedule: three replicas (each its own engine and claim holder, its clock skewed up to ±10 min) on
one state store and one FakeSlack (tests/support/alert_sim_world.py). Some incidents open, recover and
fail again in the store directly; others come from an orchestrator whose runs fail, are fixed (in the
same read window too) and get paused, on a clock of its own, read by the replicas' real watcher
(tests/support/alert_sim_runs.py); now and then every replica is down for a step. People acknowledge
and snooze; Slack answers 429, fails after accepting, loses answers; one channel may refuse for good
(channel_not_found, not_in_channel, is_archived); a replica may be killed at any await point (its task
cancelled mid-call: whatever it held stays held until its lease runs out, as after a crash). Time in
the store passes by ageing its rows (the store's clock is the only one leases use). Then a calm phase,
and the invariants are checked on what Slack shows and what the store recorded
(tests/support/alert_sim_checks.py, and the runs' in alert_sim_runs.py).
"""

from __future__ import annotations

import asyncio
import random
from datetime import datetime, timedelta

from bot.foundation.alert_routes import AlertRoute
from bot.state.deliveries import Deliveries, deliveries
from bot.state.incidents import Finding, Incidents
from tests.slack_fake.web_api import FakeSlack
from tests.support.alert_sim_checks import Outcome, check_deliveries, digest_windows, seen
from tests.support.alert_sim_runs import Named, SimOrchestrator, check_runs
from tests.support.alert_sim_world import (
    LEASE_S,
    MAX_SKEW_S,
    REFUSALS,
    RENOTIFY_S,
    START,
    SUPPRESS_S,
    Replica,
    World,
    age_store,
    inject_faults,
    message_keys,
    tick_all,
)


async def run(
    world: World, seed: int, *, incidents: int = 3, flows: int = 2, steps: int = 6, kill_p: float = 0.3
) -> Outcome:
    """`incidents` DAGs whose incidents the schedule writes itself, `flows` DAGs of an orchestrator the
    replicas watch. Each schedule starts a day after the one before: one store may hold many, and the
    watcher's mark of the runs read is the orchestrator's (one per store)."""
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
            "alert_dags": [f"{ns}_etl*"],
            "run_production": [f"{ns}_*"],  # critical: told at once
            "migrations": [],
        }
    )
    start = now = START + timedelta(days=seed)
    orchestrator = SimOrchestrator(
        [f"{ns}_etl{i}" for i in range(flows)], rng.uniform(-MAX_SKEW_S, MAX_SKEW_S), now
    )
    named = Named()
    replicas = [
        Replica(world, settings, rng.uniform(-MAX_SKEW_S, MAX_SKEW_S), orchestrator) for _ in range(3)
    ]
    store = Incidents(world.base.state.engine)
    outcome = Outcome(seed)
    dags = [f"{ns}_dag{i}" for i in range(incidents)]
    opened: dict[str, datetime] = {}
    acked: dict[str, set[str]] = {}  # incident -> its message keys when acknowledged
    snoozed_until: dict[str, datetime] = {}
    seen_at: dict[str, datetime] = {}  # message key -> sim time it was first seen in Slack
    try:
        for _step in range(steps):
            now += timedelta(minutes=rng.choice((1, 5, 20, 45, 70)))
            await _change(rng, store, dags, now, opened, acked, snoozed_until, slack, ids, fallback)
            orchestrator.change(rng, now)
            if rng.random() < 0.1:  # every replica down: what the orchestrator did meanwhile is read later
                continue
            inject_faults(rng, slack, [*ids.values(), fallback])
            pressing = asyncio.create_task(_ack_in_tick(rng, world, store, opened, acked, snoozed_until, now))
            replicas = await tick_all(rng, world, settings, replicas, now, kill_p)
            await pressing
            seen(slack, [*ids.values(), fallback], seen_at, now)
            await named.read(store, orchestrator.dags, start)
            if rng.random() < 0.5:
                await age_store(world, ns, LEASE_S + rng.uniform(1, 3 * LEASE_S))
        slack._failures.clear()  # faults injected but not met yet would go on failing the calm phase
        for _ in range(2):  # calm: no faults, no deaths; leases and backoffs run out
            await age_store(world, ns, 2 * 3600)
            now += timedelta(minutes=1)
            replicas = await tick_all(rng, world, settings, replicas, now, 0.0)
            seen(slack, [*ids.values(), fallback], seen_at, now)
        outcome.violations += check_runs(
            orchestrator, named, await named.read(store, orchestrator.dags, start)
        )
        outcome.failed_runs = sum(r.run.state == "failed" for r in orchestrator.runs)
        await check_deliveries(
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
        outcome.violations += await digest_windows(world, ns, routes, broken, now, set(outcome.posts))
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
