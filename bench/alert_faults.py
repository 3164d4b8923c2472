"""Do alerts arrive exactly once when Slack and the replicas misbehave?

F failures (default 1,000) of F DAGs, spread over the polls of a run, each routed to one of C channels
(default 50); three replicas (each its own engine and claim holder, clocks skewed up to ±10 min) on one
SQLite state store tick every poll against FakeSlack, which injects 429s, 5xx after accepting and lost
answers on random channels, while a replica is killed mid-tick (its task cancelled at a random await
point) with probability 0.3 per poll; time passes in the store between polls. A failure happens at a random
moment within the poll before the one that first sees it.

Prints posts per (incident, channel) (target exactly 1.000), lost (target 0), and the time from a failure
to its alert in Slack (p50/p99) as a ratio of the poll interval (the floor: a failure waits for the next
poll, 0.5× on average).

    .venv/bin/python bench/alert_faults.py [--failures 1000] [--channels 50] [--polls 20]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.foundation.alert_routes import AlertRoute
from bot.state.incidents import Finding, Incidents
from bot.state.store import SqlState
from tests.support.alert_sim_world import (
    LEASE_S,
    START,
    Replica,
    age_store,
    inject_faults,
    message_keys,
    tick_all,
    world,
)
from tests.support.demo import ensure_demo, isolated_settings

POLL_S = 60.0


async def bench(failures: int, channels: int, polls: int, home: Path) -> None:
    settings = isolated_settings(home / "home")
    await ensure_demo(settings)
    url = f"sqlite+aiosqlite:///{home / 'bench.db'}"
    state = SqlState(url)
    await state.migrate()
    await state.close()
    rng = random.Random(7)
    async with world(settings, url) as w:
        names = [f"bench-{n:02d}" for n in range(channels)]
        ids = [w.slack.create_channel(n) for n in names]
        routes = [
            AlertRoute(name=f"c{n}", channel=f"#{c}", dags=[f"bench_c{n}_*"]) for n, c in enumerate(names)
        ]
        configured = w.base.settings.model_copy(
            update={"alert_routes": routes, "alert_fallback_channel": names[0], "alert_poll_s": POLL_S}
        )
        replicas = [Replica(w, configured, rng.uniform(-600, 600)) for _ in range(3)]
        store = Incidents(w.base.state.engine)
        failed_at: dict[str, float] = {}  # incident -> sim seconds of the failure
        seen_at: dict[str, float] = {}
        plan = sorted(rng.randrange(polls) for _ in range(failures))
        per_poll = Counter(plan)
        started = time.perf_counter()
        made = 0
        for poll in range(polls + 5):  # five more polls: what was held or refused finishes
            now = START + timedelta(seconds=poll * POLL_S)
            found = []
            for _ in range(per_poll.get(poll, 0)):
                dag = f"bench_c{made % channels}_{made}"
                found.append(
                    Finding(
                        key=f"run:{dag}",
                        kind="run",
                        subject=dag,
                        summary=f"DAG `{dag}` failed",
                        severity="critical",
                        dag=dag,
                    )
                )
                failed_at[f"run:{dag}"] = poll * POLL_S - rng.uniform(0, POLL_S)
                made += 1
            if found:
                await store.observe(found, (), now)
            if poll < polls:
                inject_faults(rng, w.slack, ids)
            replicas = await tick_all(rng, w, configured, replicas, now, 0.3 if poll < polls else 0.0)
            for key in message_keys(w.slack, ids):
                incident = key.split(":", 1)[1].rsplit(":", 2)[0]
                seen_at.setdefault(incident, poll * POLL_S)
            await age_store(w, "bench_", LEASE_S + 1)
        elapsed = time.perf_counter() - started
        posts = Counter(
            k for k in message_keys(w.slack, ids) if k.startswith("alert:") and k.split(":")[3] == "0"
        )
        for r in replicas:
            await r.state.close()
    told = len({k.split(":", 1)[1].rsplit(":", 2)[0] for k in posts})
    lost = failures - told
    latencies = sorted(seen_at[i] - failed_at[i] for i in failed_at if i in seen_at)
    p50 = statistics.median(latencies)
    p99 = latencies[int(0.99 * (len(latencies) - 1))]
    print(
        f"{failures:,} failures, {channels} channels, {polls} polls of {POLL_S:.0f} s, 3 replicas, faults on"
    )
    print(f"posts per (incident, channel): {sum(posts.values()) / max(told, 1):.3f} (target 1.000)")
    print(f"duplicates: {sum(n - 1 for n in posts.values())}; lost: {lost} (target 0)")
    print(
        f"failure → alert: p50 {p50:.0f} s ({p50 / POLL_S:.2f}× poll), "
        f"p99 {p99:.0f} s ({p99 / POLL_S:.2f}× poll)"
    )
    print(f"wall time {elapsed:.1f} s ({elapsed / (polls + 5):.2f} s per poll for all three replicas)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--failures", type=int, default=1000)
    parser.add_argument("--channels", type=int, default=50)
    parser.add_argument("--polls", type=int, default=20)
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # the injected faults are expected: their warnings are noise here
    with tempfile.TemporaryDirectory() as home:
        asyncio.run(bench(args.failures, args.channels, args.polls, Path(home)))


if __name__ == "__main__":
    main()
