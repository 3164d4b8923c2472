"""Incidents, digests and immediate alerts with an injected clock, on the real state store and FakeSlack.

Findings are recorded as the watcher records them (`Incidents.observe`); what reaches Slack is read
back from FakeSlack as a person would see the channel.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from bot.alerts.deliver import alert, send_digests
from bot.alerts.delivery import LEASE_S
from bot.alerts.digest import build
from bot.alerts.lineage import group
from bot.foundation.alert_routes import AlertRoute
from bot.foundation.catalog import Catalog
from bot.foundation.errors import UsageError
from bot.foundation.settings import Settings
from bot.render.message import Message, Text
from bot.scheduler import housekeeping
from bot.state.deliveries import Deliveries, Kind, deliveries
from bot.state.incidents import Finding, Incident, Incidents
from bot.surfaces.slack import SlackSurface, web_client, without_rate_limit_waits
from commands.digest import parse
from tests.support.bot import BotHarness, running_bot

MONDAY_7 = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)  # a Monday
ROUTE = AlertRoute(name="ops", channel="C_OPS", schedule="0 8 * * *", timezone="UTC")


def text_of(message: Mapping[str, Any]) -> str:
    return " ".join(str(b) for b in message.get("blocks", [])) + message.get("text", "")


def failed_run(dag: str = "amd_payment", run_id: str = "scheduled__1", **detail: Any) -> Finding:
    return Finding(
        key=f"run:{dag}",
        kind="run",
        subject=dag,
        summary=f"DAG `{dag}` failed (run `{run_id}`)",
        severity="critical",
        entity="payment",
        dag=dag,
        owner="payments-team",
        channel="#amd-payments-support",
        detail={"run_id": run_id, "failed_tasks": ["non_negative_payment_amount_cents"], **detail},
    )


def stale(entity: str, owner: str = "lena.m") -> Finding:
    return Finding(
        key=f"stale:{entity}",
        kind="stale",
        subject=entity,
        summary=f"`{entity}` is stale",
        entity=entity,
        owner=owner,
        channel="#amd-logistics-support",
        detail={"model": f"model.amd.{entity}"},
    )


@pytest.fixture
async def bot(bot_settings: Settings) -> AsyncIterator[BotHarness]:
    settings = bot_settings.model_copy(
        update={"alert_routes": [ROUTE], "alert_suppress_s": 3600, "alert_renotify_s": 4 * 3600}
    )
    async with running_bot(settings) as harness:
        yield harness


def surface_of(bot: BotHarness) -> SlackSurface:
    return SlackSurface(without_rate_limit_waits(web_client(bot.backends.settings)))


async def alert_until_settled(bot: BotHarness, now: datetime) -> list[str]:
    """Alert ticks at `now` until nothing waits for Slack's Retry-After (about 1 post per second per
    channel): what several real ticks would do. Returns the incidents told."""
    told: list[str] = []
    for _ in range(20):
        told += await alert(bot.backends, surface_of(bot), now=now)
        waiting = await Deliveries(bot.backends.state.engine, holder="", lease_s=LEASE_S).where(
            deliveries.c.state == "claimed", deliveries.c.holder.is_(None)
        )
        if not waiting:
            return told
        await asyncio.sleep(1.05)
    raise AssertionError("deliveries still waiting after 20 ticks")


# --- lineage ---------------------------------------------------------------------------------------


def _model(name: str, *parents: str, **meta: Any) -> tuple[str, dict[str, Any]]:
    uid = f"model.shop.{name}"
    node = {
        "resource_type": "model",
        "name": name,
        "schema": "s",
        "config": {"meta": meta},
        "depends_on": {"nodes": [f"model.shop.{p}" for p in parents]},
    }
    return uid, node


SHOP = Catalog.from_manifest(
    {
        "nodes": dict(
            [
                _model("raw_orders"),
                _model("orders", "raw_orders", entity=True, dag="shop_orders", owner="ana"),
                _model("revenue", "orders", entity=True, dag="shop_revenue", owner="bo"),
                _model("customers", entity=True, dag="shop_customers", owner="cy"),
                (
                    "test.shop.not_null_orders_id",
                    {
                        "resource_type": "test",
                        "name": "not_null_orders_id",
                        "attached_node": "model.shop.orders",
                        "depends_on": {"nodes": ["model.shop.orders"]},
                    },
                ),
            ]
        )
    },
    {},
)


def incident(finding: Finding, opened: datetime = MONDAY_7) -> Incident:
    return Incident(**finding.__dict__, first_seen=opened, last_seen=opened, opened_at=opened)


def test_a_failed_run_carries_its_failing_test_and_the_stale_entities_downstream_as_one_item() -> None:
    run = Finding(
        key="run:shop_orders",
        kind="run",
        subject="shop_orders",
        summary="orders failed",
        dag="shop_orders",
        owner="ana",
        detail={"failed_tasks": ["not_null_orders_id"]},
    )
    test = Finding(
        key="test:test.shop.not_null_orders_id",
        kind="test",
        subject="not_null_orders_id",
        summary="failed",
        owner="ana",
        detail={"model": "model.shop.orders"},
    )
    downstream = Finding(
        key="stale:revenue", kind="stale", subject="revenue", summary="stale", entity="revenue", owner="bo"
    )
    unrelated = Finding(
        key="stale:customers",
        kind="stale",
        subject="customers",
        summary="stale",
        entity="customers",
        owner="cy",
    )

    groups = group([incident(f) for f in (unrelated, downstream, test, run)], SHOP)

    assert [g.root.key for g in groups] == ["run:shop_orders", "stale:customers"]
    first = groups[0]
    assert first.causes == ("not_null_orders_id",)
    assert [i.key for i in first.affected] == ["test:test.shop.not_null_orders_id", "stale:revenue"]
    assert first.owners == ("ana", "bo")


@pytest.mark.parametrize(
    ("test_run", "causes"), [("scheduled__2", ("not_null_orders_id",)), ("scheduled__1", ())]
)
def test_a_failing_test_in_the_results_a_run_kept_is_its_cause_when_its_tasks_are_per_model(
    test_run: str, causes: tuple[str, ...]
) -> None:
    # The DAG factory's tasks are `run_<model>`/`test_<model>`: no task is named after the test.
    run = Finding(
        key="run:shop_orders",
        kind="run",
        subject="shop_orders",
        summary="orders failed",
        dag="shop_orders",
        detail={"run_id": "scheduled__2", "failed_tasks": ["test_orders"]},
    )
    test = Finding(
        key="test:test.shop.not_null_orders_id",
        kind="test",
        subject="not_null_orders_id",
        summary="failed",
        dag="shop_orders",
        detail={"model": "model.shop.orders", "run_id": test_run, "task": "test_orders"},
    )

    (only,) = group([incident(run), incident(test)], SHOP)

    assert only.root.key == "run:shop_orders"
    assert only.causes == causes  # a test that failed in an earlier run is blast radius, not this run's cause
    assert [i.key for i in only.affected] == ["test:test.shop.not_null_orders_id"]


def test_without_a_failed_run_the_most_upstream_failure_is_the_root() -> None:
    upstream = Finding(key="stale:orders", kind="stale", subject="orders", summary="stale", entity="orders")
    downstream = Finding(
        key="stale:revenue", kind="stale", subject="revenue", summary="stale", entity="revenue"
    )
    (only,) = group([incident(downstream), incident(upstream, MONDAY_7 + timedelta(hours=1))], SHOP)
    assert only.root.key == "stale:orders"
    assert [i.key for i in only.affected] == ["stale:revenue"]


def test_a_dags_own_state_is_never_another_incidents_blast_radius() -> None:
    # Its missing run, a downstream DAG's failed run: each a root, acted on by itself.
    failed = Finding(
        key="run:shop_orders", kind="run", subject="shop_orders", summary="failed", dag="shop_orders"
    )
    missing = Finding(
        key="missing:shop_orders", kind="missing", subject="shop_orders", summary="missing", dag="shop_orders"
    )
    downstream = Finding(
        key="run:shop_revenue", kind="run", subject="shop_revenue", summary="failed", dag="shop_revenue"
    )
    stale = Finding(key="stale:revenue", kind="stale", subject="revenue", summary="stale", entity="revenue")
    groups = group([incident(f) for f in (missing, failed, downstream, stale)], SHOP)
    assert sorted(g.root.key for g in groups) == [
        "missing:shop_orders",
        "run:shop_orders",
        "run:shop_revenue",
    ]
    assert sum(len(g.affected) for g in groups) == 1  # the stale entity joins one of them


# --- digests: windows, watermarks, new/open/recovered ----------------------------------------------


async def test_one_digest_per_window_new_open_and_recovered_and_one_digest_for_a_downtime_gap(
    bot: BotHarness,
) -> None:
    store, surface = Incidents(bot.backends.state.engine), surface_of(bot)
    digest = lambda now: send_digests(bot.backends, surface, now=now, unreadable={})  # noqa: E731

    await store.observe([failed_run()], (), MONDAY_7)
    assert await digest(MONDAY_7) == []  # the route's first window starts now
    assert await digest(MONDAY_7 + timedelta(minutes=59)) == []  # not 08:00 yet
    assert await digest(MONDAY_7 + timedelta(hours=1, seconds=30)) == ["ops → C_OPS"]
    assert await digest(MONDAY_7 + timedelta(hours=1, minutes=1)) == []  # that window is told
    (first,) = [m for m in bot.slack.messages("C_OPS") if "thread_ts" not in m]
    assert "1 open* (1 new)" in text_of(first)
    assert "non_negative_payment_amount_cents" in text_of(first)

    # Down from Monday 08:01 to Wednesday 09:00: two windows missed. Meanwhile the run recovered and
    # delivery_address went stale.
    await store.observe([stale("delivery_address")], {"run:amd_payment"}, MONDAY_7 + timedelta(hours=20))
    wednesday = MONDAY_7 + timedelta(days=2, hours=2)
    assert await digest(wednesday) == ["ops → C_OPS"]
    assert await digest(wednesday + timedelta(minutes=5)) == []
    digests = [m for m in bot.slack.messages("C_OPS") if "thread_ts" not in m]
    assert len(digests) == 2  # one for the whole gap
    gap = text_of(digests[1])
    assert "1 open* (1 new)" in gap and "delivery_address" in gap
    assert "Recovered: `amd_payment`" in gap
    assert "since 2026-11-30 08:00 UTC" in gap


async def test_a_window_due_within_a_second_of_the_last_mark_is_still_told(bot: BotHarness) -> None:
    # Found by the simulation: a mark half a second before 08:00 skipped the 08:00 window.
    store, surface = Incidents(bot.backends.state.engine), surface_of(bot)
    await store.observe([failed_run()], (), MONDAY_7)
    just_before = MONDAY_7 + timedelta(minutes=59, seconds=59, microseconds=500_000)
    assert await send_digests(bot.backends, surface, now=just_before, unreadable={}) == []  # opens it
    after = MONDAY_7 + timedelta(hours=1, seconds=30)
    assert await send_digests(bot.backends, surface, now=after, unreadable={}) == ["ops → C_OPS"]


async def test_nothing_to_say_sends_nothing_and_acknowledged_items_fold_into_a_count(bot: BotHarness) -> None:
    store, surface = Incidents(bot.backends.state.engine), surface_of(bot)
    await store.observe([failed_run(), stale("delivery_address")], (), MONDAY_7)
    await send_digests(bot.backends, surface, now=MONDAY_7, unreadable={})  # opens the window
    await store.act("run:amd_payment", "acknowledged", by="U2", now=MONDAY_7, until=None)

    built = build(ROUTE, "C_OPS", await store.all(), bot.backends.catalog, since=MONDAY_7, now=MONDAY_7)
    assert (built.open_count, built.folded) == (1, 1)
    assert built.owners == ("lena.m",)

    await store.observe((), {"stale:delivery_address"}, MONDAY_7 + timedelta(minutes=10))
    later = MONDAY_7 + timedelta(days=1, hours=2)  # the first window told all of it…
    assert await send_digests(
        bot.backends, surface, now=MONDAY_7 + timedelta(hours=1, seconds=1), unreadable={}
    )
    assert await send_digests(bot.backends, surface, now=later, unreadable={}) == []  # …so a day later: quiet


async def test_a_source_that_cannot_be_read_is_named_instead_of_all_green(bot: BotHarness) -> None:
    surface = surface_of(bot)
    await send_digests(bot.backends, surface, now=MONDAY_7, unreadable={})
    assert await send_digests(bot.backends, surface, now=MONDAY_7 + timedelta(hours=1), unreadable={}) == []

    down = {"orchestrator": "Airflow at http://airflow:8080 is unreachable"}
    assert await send_digests(
        bot.backends, surface, now=MONDAY_7 + timedelta(days=1, hours=1), unreadable=down
    )
    (digest,) = bot.slack.messages("C_OPS")
    assert "Could not read the orchestrator: Airflow at http://airflow:8080 is unreachable" in text_of(digest)
    assert "may be incomplete" in text_of(digest)


# --- exactly once: a crash between claim and post, Slack refusing ----------------------------------


def far_from(now: datetime) -> AlertRoute:
    """ROUTE, but due daily 12 hours from `now`: the claims' real clock and the tests' minutes after it
    never meet a window boundary."""
    return ROUTE.model_copy(update={"schedule": f"0 {(now.hour + 12) % 24} * * *"})


async def claimed_by_a_dead_replica(bot: BotHarness, channel: str) -> tuple[datetime, str]:
    """A digest route to `channel` with one open incident, whose window of today another replica
    claimed and then died: (now, the claim's key)."""
    store = Incidents(bot.backends.state.engine)
    now = datetime.now(UTC).replace(microsecond=0)
    route = far_from(now).model_copy(update={"channel": channel})
    bot.backends.settings = bot.backends.settings.model_copy(update={"alert_routes": [route]})
    await store.set_mark(f"digest:ops:{channel}", now - timedelta(days=1))
    await store.observe([failed_run()], (), now)
    due = route.trigger().get_next_fire_time(None, now - timedelta(days=1, seconds=-1))
    assert due is not None
    key = f"digest:ops:{channel}:{due.isoformat()}"
    await dead_replica_holds(bot, key, kind="digest", channel=channel)
    return now, key


async def dead_replica_holds(
    bot: BotHarness, key: str, *, kind: Kind, channel: str, posting: bool = True, incident: str | None = None
) -> None:
    """Another replica claimed `key` (and, `posting`, handed it to Slack), then died: its lease runs
    out by the state store's clock (`lease_ran_out`), not by anybody's `now`."""
    dead = Deliveries(bot.backends.state.engine, holder="dead-replica", lease_s=LEASE_S)
    assert await dead.take(key, kind=kind, channel=channel, incident=incident)
    if posting:
        assert await dead.sending(key)


async def lease_ran_out(bot: BotHarness, key: str) -> None:
    """The dead replica claimed `key` longer ago than the lease, by the store's clock."""
    async with bot.backends.state.engine.begin() as conn:
        d = deliveries.c
        await conn.execute(update(deliveries).where(d.key == key).values(claimed_s=d.claimed_s - LEASE_S - 1))


async def test_a_digest_claimed_by_a_replica_that_died_is_posted_once_by_a_later_tick(
    bot: BotHarness,
) -> None:
    surface = surface_of(bot)
    now, key = await claimed_by_a_dead_replica(bot, "C_OPS")  # it died before it posted

    assert await send_digests(bot.backends, surface, now=now, unreadable={}) == []  # its claim is fresh
    assert bot.slack.messages("C_OPS") == []
    await lease_ran_out(bot, key)  # past the claim's lease: the next tick takes it over
    later = now + timedelta(minutes=3)
    assert await send_digests(bot.backends, surface, now=later, unreadable={}) == ["ops → C_OPS"]
    assert await send_digests(bot.backends, surface, now=later + timedelta(minutes=1), unreadable={}) == []
    assert len([m for m in bot.slack.messages("C_OPS") if "thread_ts" not in m]) == 1


async def test_a_digest_posted_just_before_its_replica_died_is_found_and_not_posted_again(
    bot: BotHarness,
) -> None:
    surface = surface_of(bot)
    now, key = await claimed_by_a_dead_replica(bot, "C_OPS")  # it posted, and died before recording that
    posted = Message((Text("the digest the dead replica posted"),), fallback="digest", public=True, key=key)
    await surface.post(posted, channel="C_OPS")
    await lease_ran_out(bot, key)

    assert await send_digests(bot.backends, surface, now=now + timedelta(minutes=3), unreadable={}) == [
        "ops → C_OPS"
    ]
    (only,) = [m for m in bot.slack.messages("C_OPS") if "thread_ts" not in m]
    assert "the digest the dead replica posted" in text_of(only)
    assert bot.slack.calls_to("conversations.history", ok=True)
    assert await send_digests(bot.backends, surface, now=now + timedelta(minutes=4), unreadable={}) == []


async def test_a_digest_posted_to_a_hash_named_route_channel_before_its_replica_died_is_not_posted_again(
    bot: BotHarness,
) -> None:
    ops = bot.slack.create_channel("amd-ops")
    surface = surface_of(bot)
    now, key = await claimed_by_a_dead_replica(bot, "#amd-ops")  # it posted by the route's #name, and died
    posted = Message((Text("the digest the dead replica posted"),), fallback="digest", public=True, key=key)
    await surface.post(posted, channel="#amd-ops")
    await lease_ran_out(bot, key)

    later = now + timedelta(minutes=3)
    assert await send_digests(bot.backends, surface, now=later, unreadable={}) == ["ops → #amd-ops"]
    (only,) = [m for m in bot.slack.messages(ops) if "thread_ts" not in m]
    assert "the digest the dead replica posted" in text_of(only)
    assert [c.args["channel"] for c in bot.slack.calls_to("conversations.history", ok=True)] == [ops]
    assert len(bot.slack.calls_to("conversations.list", ok=True)) == 1
    assert await send_digests(bot.backends, surface, now=later + timedelta(minutes=1), unreadable={}) == []


async def test_an_alert_posted_to_the_entitys_support_channel_before_its_replica_died_is_not_posted_again(
    bot: BotHarness,
) -> None:
    support = bot.slack.create_channel("amd-payments-support")
    store, surface = Incidents(bot.backends.state.engine), surface_of(bot)
    default = AlertRoute()  # each entity's support_channel, given as #amd-payments-support
    bot.backends.settings = bot.backends.settings.model_copy(update={"alert_routes": [default]})
    now = datetime.now(UTC)
    await store.observe([failed_run()], (), now)
    key = "alert:run:amd_payment:0:#amd-payments-support"
    # Another replica claimed the alert, posted it by the entity's #name, and died before recording it.
    await dead_replica_holds(
        bot, key, kind="alert", channel="#amd-payments-support", incident="run:amd_payment"
    )
    posted = Message((Text("the alert the dead replica posted"),), fallback="alert", public=True, key=key)
    await surface.post(posted, channel="#amd-payments-support")
    await lease_ran_out(bot, key)

    assert await alert(bot.backends, surface, now=now + timedelta(minutes=3)) == ["run:amd_payment"]
    (only,) = bot.slack.messages(support)
    assert "the alert the dead replica posted" in text_of(only)
    (told,) = await store.all()
    assert told.notified == 1 and told.alert == {"channel": support, "ts": only["ts"]}
    assert [c.args["channel"] for c in bot.slack.calls_to("conversations.history", ok=True)] == [support]
    assert await alert(bot.backends, surface, now=now + timedelta(minutes=4)) == []


async def test_a_channel_name_that_does_not_resolve_is_warned_about_and_posted_to(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    surface = surface_of(bot)
    now, key = await claimed_by_a_dead_replica(bot, "#nowhere")  # no such channel in the workspace
    await lease_ran_out(bot, key)

    later = now + timedelta(minutes=3)
    assert await send_digests(bot.backends, surface, now=later, unreadable={}) == ["ops → #nowhere"]
    assert len([m for m in bot.slack.messages("#nowhere") if "thread_ts" not in m]) == 1
    assert "no channel named #nowhere among those the bot can see" in caplog.text
    assert bot.slack.calls_to("conversations.history") == []


async def test_slack_429_and_slack_down_delay_the_digest_to_a_later_tick_without_dropping_or_doubling_it(
    bot: BotHarness,
) -> None:
    store, surface = Incidents(bot.backends.state.engine), surface_of(bot)
    await store.observe([failed_run()], (), MONDAY_7)
    await send_digests(bot.backends, surface, now=MONDAY_7, unreadable={})

    bot.slack.fail_next("chat.postMessage", status=429, retry_after=1)
    assert await send_digests(bot.backends, surface, now=MONDAY_7 + timedelta(hours=1), unreadable={}) == []
    await asyncio.sleep(1.1)  # Retry-After: nothing was posted, so the next tick posts without looking
    assert await send_digests(
        bot.backends, surface, now=MONDAY_7 + timedelta(hours=1, minutes=1), unreadable={}
    )
    assert len(bot.slack.calls_to("chat.postMessage", ok=False)) == 1

    await store.observe([stale("delivery_address")], (), MONDAY_7 + timedelta(hours=2))
    bot.slack.fail_next("chat.postMessage", status=503)  # Slack down: the post is never sent again blind
    tuesday = MONDAY_7 + timedelta(days=1, hours=1)
    assert await send_digests(bot.backends, surface, now=tuesday, unreadable={}) == []
    assert await send_digests(bot.backends, surface, now=tuesday + timedelta(minutes=1), unreadable={})
    assert bot.slack.calls_to("conversations.history", ok=True)  # looked first: it had not landed
    digests = [m for m in bot.slack.messages("C_OPS") if "thread_ts" not in m]
    assert len(digests) == 2 and "delivery_address" in text_of(digests[1])


async def test_housekeeping_forgets_incidents_resolved_beyond_the_retention(bot: BotHarness) -> None:
    store = Incidents(bot.backends.state.engine)
    now = datetime.now(UTC)
    await store.observe(
        [failed_run(), stale("delivery_address"), stale("user")], (), now - timedelta(days=40)
    )
    await store.observe((), {"run:amd_payment"}, now - timedelta(days=31))
    await store.observe((), {"stale:user"}, now - timedelta(days=1))
    await housekeeping(bot.backends, now=now)
    assert [i.key for i in await store.all(since=now - timedelta(days=365))] == [
        "stale:delivery_address",  # still open
        "stale:user",  # resolved yesterday: a digest may still call it recovered
    ]


def test_digest_usage_suggests_the_closest_action() -> None:
    with pytest.raises(UsageError) as caught:
        parse(["preveiw"], SHOP)
    assert caught.value.suggestion == "digest preview"
