"""What a simulated schedule (tests/support/alert_sim.py) must show, checked on what Slack shows and
what the store recorded: each (incident, channel, notification) told exactly once or a delivery problem
recorded, nothing after Acknowledge, at most one post per re-notify interval after a snooze, no digest
window lost or doubled."""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.foundation.alert_routes import AlertRoute
from bot.state.deliveries import Deliveries, deliveries
from bot.state.incidents import Incidents
from tests.slack_fake.web_api import FakeSlack
from tests.support.alert_sim_world import LEASE_S, MAX_SKEW_S, RENOTIFY_S, START, World, message_keys


@dataclass
class Outcome:
    seed: int
    keys: int = 0  # (incident, channel, notification) deliveries checked
    posts: Counter[str] = field(default_factory=Counter)  # message key -> messages in Slack
    problems: int = 0
    failed_runs: int = 0  # in the orchestrator
    first_told: dict[str, float] = field(default_factory=dict)  # incident -> sim seconds to its first alert
    violations: list[str] = field(default_factory=list)


def seen(slack: FakeSlack, channels: list[str], seen_at: dict[str, datetime], now: datetime) -> None:
    for key in message_keys(slack, channels):
        seen_at.setdefault(key, now)


async def check_deliveries(
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


async def digest_windows(
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
