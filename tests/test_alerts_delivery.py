"""The delivery regressions of issue 18, each reproduced on the real state store and FakeSlack: a snooze
that ran out, a channel that refuses, a post Slack accepted before failing, a replica dying between two
channels, incidents without a channel, and takeovers (atomic, on the store's clock, reading every page
of a channel the bot had to join first)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY
from pydantic import SecretStr
from sqlalchemy.exc import SQLAlchemyError

from bot.alerts.deliver import alert, send_digests
from bot.alerts.delivery import LEASE_S
from bot.foundation.alert_routes import AlertRoute
from bot.foundation.ports import CardRef
from bot.foundation.settings import Settings
from bot.render.message import Message, Text
from bot.state import store
from bot.state.deliveries import Deliveries
from bot.state.incidents import Finding, Incidents
from bot.state.store import unreachable
from bot.surfaces.slack import SlackSurface, web_client, without_rate_limit_waits
from tests.support.bot import BotHarness, claimed_long_ago, running_bot
from tests.support.private_postgres import PrivatePostgres, private_postgres
from tests.test_alerts import (
    alert_until_settled,
    dead_replica_holds,
    failed_run,
    lease_ran_out,
    surface_of,
    text_of,
)

NOW = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
OPS = AlertRoute(name="ops", channel="C_OPS", schedule="0 8 * * *")


@pytest.fixture
async def bot(bot_settings: Settings) -> AsyncIterator[BotHarness]:
    settings = bot_settings.model_copy(
        update={
            "alert_routes": [OPS],
            "alert_suppress_s": 3600,
            "alert_renotify_s": 4 * 3600,
            "alert_fallback_channel": "C_FALLBACK",
        }
    )
    async with running_bot(settings) as harness:
        yield harness


def routed(bot: BotHarness, *routes: AlertRoute) -> None:
    bot.backends.settings = bot.backends.settings.model_copy(update={"alert_routes": list(routes)})


def top_level(bot: BotHarness, channel: str) -> list[dict[str, object]]:
    return [m for m in bot.slack.messages(channel) if "thread_ts" not in m or m.get("subtype")]


def failures(reason: str) -> float:
    return REGISTRY.get_sample_value("amd_alert_delivery_failures_total", {"reason": reason}) or 0.0


# --- 1: a snooze that ran out is told once, then at the re-notify interval ------------------------


async def test_a_snooze_that_ran_out_is_told_once_and_then_only_at_the_renotify_interval(
    bot: BotHarness,
) -> None:
    store = Incidents(bot.backends.state.engine)
    await store.observe([failed_run()], (), NOW)
    assert await alert_until_settled(bot, NOW) == ["run:amd_payment"]
    await store.act("run:amd_payment", "snoozed", by="U1", now=NOW, until=NOW + timedelta(hours=1))

    told = []
    for minute in range(61, 61 + 10):  # ten polls after the snooze ended
        told += await alert_until_settled(bot, NOW + timedelta(minutes=minute))
    assert told == ["run:amd_payment"]
    assert await alert_until_settled(bot, NOW + timedelta(minutes=61 + 4 * 60)) == ["run:amd_payment"]
    alert_ts = top_level(bot, "C_OPS")[0]["ts"]
    assert len([m for m in bot.slack.messages("C_OPS") if m.get("thread_ts") == alert_ts]) == 2


async def test_snooze_until_green_holds_until_it_resolves_and_a_new_failure_alerts_again(
    bot: BotHarness,
) -> None:
    store = Incidents(bot.backends.state.engine)
    await store.observe([failed_run()], (), NOW)
    await alert_until_settled(bot, NOW)
    await store.act("run:amd_payment", "snoozed", by="U1", now=NOW, until=None)
    assert await alert_until_settled(bot, NOW + timedelta(days=3)) == []
    await store.observe((), {"run:amd_payment"}, NOW + timedelta(days=3, hours=1))
    await store.observe([failed_run(run_id="r2")], (), NOW + timedelta(days=3, hours=9))
    assert await alert_until_settled(bot, NOW + timedelta(days=3, hours=9)) == ["run:amd_payment"]


# --- 2 and 6: one refusing channel is isolated and reported; no channel goes to the fallback ------


async def test_an_archived_channel_is_reported_once_and_every_other_alert_and_digest_goes_on(
    bot: BotHarness,
) -> None:
    archived = bot.slack.create_channel("amd-old")
    bot.slack.archive(archived)
    routed(bot, AlertRoute(name="old", channel="#amd-old"), OPS)
    store = Incidents(bot.backends.state.engine)
    await store.observe([failed_run(), failed_run("amd_user")], (), NOW)
    before = failures("is_archived")

    told = await alert_until_settled(bot, NOW)
    assert sorted(told) == ["run:amd_payment", "run:amd_user"]
    assert len(top_level(bot, "C_OPS")) == 2
    (problem,) = bot.slack.messages("C_FALLBACK")
    said = text_of(problem)
    assert "#amd-old" in said and "is_archived" in said and "unarchive" in said
    assert failures("is_archived") - before == 2

    refused = len(bot.slack.calls_to("chat.postMessage", ok=False))
    for minute in range(1, 6):  # polls within the backoff: no new attempt, no new report
        await alert_until_settled(bot, NOW + timedelta(minutes=minute))
    assert len(bot.slack.calls_to("chat.postMessage", ok=False)) == refused
    assert len(bot.slack.messages("C_FALLBACK")) == 1

    await send_digests(bot.backends, surface_of(bot), now=NOW, unreadable={})
    assert await send_digests(bot.backends, surface_of(bot), now=NOW + timedelta(hours=1), unreadable={})
    listed = await bot.answers(await bot.slash("/amd alerts", user="U1"))
    assert "#amd-old" in str(listed) and "is_archived" in str(listed)


async def test_an_incident_with_no_channel_goes_to_the_fallback_channel(bot: BotHarness) -> None:
    routed(bot, AlertRoute())  # each entity's support channel: this DAG's entity has none
    lonely = Finding(
        key="run:flaky_export",
        kind="run",
        subject="flaky_export",
        summary="DAG `flaky_export` failed",
        severity="critical",
        dag="flaky_export",
    )
    await Incidents(bot.backends.state.engine).observe([lonely], (), NOW)
    assert await alert_until_settled(bot, NOW) == ["run:flaky_export"]
    (told,) = bot.slack.messages("C_FALLBACK")
    assert "flaky_export" in text_of(told)


# --- 3: a post Slack accepted is never posted again -----------------------------------------------


@pytest.mark.parametrize("fault", ["5xx after accepting", "lost response"])
async def test_a_post_slack_accepted_before_an_error_is_found_and_not_posted_again(
    bot: BotHarness, fault: str
) -> None:
    await Incidents(bot.backends.state.engine).observe([failed_run()], (), NOW)
    if fault == "lost response":
        bot.slack.fail_next("chat.postMessage", lost=True)
    else:
        bot.slack.fail_next("chat.postMessage", status=500, accepted=True)

    await alert(bot.backends, surface_of(bot), now=NOW)
    for minute in range(1, 4):
        await alert_until_settled(bot, NOW + timedelta(minutes=minute))
    assert len(top_level(bot, "C_OPS")) == 1
    assert bot.slack.calls_to("conversations.history", ok=True)  # looked for it before any retry


# --- 5: a replica dying in channel B does not cost B its alert --------------------------------------


async def test_a_replica_dying_while_it_holds_channel_b_does_not_lose_b_when_a_is_told(
    bot: BotHarness,
) -> None:
    b, a = AlertRoute(name="b", channel="C_B"), AlertRoute(name="a", channel="C_A")
    routed(bot, b, a)
    await Incidents(bot.backends.state.engine).observe([failed_run()], (), NOW)
    key_b = "alert:run:amd_payment:0:C_B"
    await dead_replica_holds(
        bot, key_b, kind="alert", channel="C_B", posting=False, incident="run:amd_payment"
    )

    await alert_until_settled(bot, NOW)
    assert len(top_level(bot, "C_A")) == 1 and top_level(bot, "C_B") == []
    await lease_ran_out(bot, key_b)
    await alert_until_settled(bot, NOW + timedelta(minutes=3))
    assert len(top_level(bot, "C_A")) == 1 and len(top_level(bot, "C_B")) == 1


# --- 8: takeovers ----------------------------------------------------------------------------------


async def test_a_replica_whose_clock_is_ten_minutes_ahead_does_not_take_over_a_live_claim(
    bot: BotHarness,
) -> None:
    await Incidents(bot.backends.state.engine).observe([failed_run()], (), NOW)
    key = "alert:run:amd_payment:0:C_OPS"
    await dead_replica_holds(
        bot, key, kind="alert", channel="C_OPS", posting=False, incident="run:amd_payment"
    )
    skewed = datetime.now(UTC) + timedelta(minutes=10)  # the lease is the store's, not this replica's
    assert await alert(bot.backends, surface_of(bot), now=skewed) == []
    assert bot.slack.messages("C_OPS") == []


async def test_of_many_replicas_taking_over_the_same_dead_claim_exactly_one_gets_it(bot: BotHarness) -> None:
    key = "digest:ops:C_OPS:w"
    await dead_replica_holds(bot, key, kind="digest", channel="C_OPS")
    await lease_ran_out(bot, key)
    heirs = [Deliveries(bot.backends.state.engine, holder=f"r{n}", lease_s=LEASE_S) for n in range(5)]
    taken = await asyncio.gather(*(h.take(key, kind="digest", channel="C_OPS") for h in heirs))
    assert len([t for t in taken if t is not None]) == 1

    # The plain claims other features take over (the Home tab's) are taken in one statement too, and the
    # heir's fresh claim is not old enough for the next heir to take in turn.
    state = bot.backends.state
    await claimed_long_ago(state, "home:U1")
    claims = await asyncio.gather(*(state.take_over("home:U1", older_than_s=60) for _ in range(5)))
    assert len([c for c in claims if c is not None]) == 1


async def test_a_claim_is_aged_by_the_stores_clock_whatever_the_claiming_replicas_clock_says(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A replica whose clock is 10 minutes behind claims: its claim is not 10 minutes old to the others
    (it was, when claims were stamped by the claimer's clock, and a Home tab was published twice)."""
    state = bot.backends.state
    monkeypatch.setattr(store, "_now", lambda: datetime.now(UTC) - timedelta(minutes=10))
    assert await state.claim("home:U2")
    monkeypatch.undo()
    assert await state.take_over("home:U2", older_than_s=60) is None
    await claimed_long_ago(state, "home:U3")
    assert await state.take_over("home:U3", older_than_s=60) is not None


async def test_a_post_made_before_a_crash_is_found_beyond_the_first_page_in_a_channel_the_bot_had_to_join(
    bot: BotHarness,
) -> None:
    busy = bot.slack.create_channel("amd-busy", member=False)  # posted to under chat:write.public
    routed(bot, AlertRoute(name="busy", channel="#amd-busy"))
    await Incidents(bot.backends.state.engine).observe([failed_run()], (), NOW)
    key = "alert:run:amd_payment:0:#amd-busy"
    await dead_replica_holds(bot, key, kind="alert", channel="#amd-busy", incident="run:amd_payment")
    surface = surface_of(bot)
    said = Message((Text("the alert the dead replica posted"),), fallback="alert", public=True, key=key)
    await surface.post(said, channel="#amd-busy")
    for n in range(250):  # people talk: the post is on the second page of history
        bot.slack.say(busy, f"hi {n}")
    await lease_ran_out(bot, key)

    later = datetime.now(UTC) + timedelta(minutes=3)
    assert await alert(bot.backends, surface, now=later) == ["run:amd_payment"]
    assert len([m for m in bot.slack.messages(busy) if "alert" in text_of(m)]) == 1
    assert bot.slack.calls_to("conversations.join", ok=True)
    assert len(bot.slack.calls_to("conversations.history", ok=True)) >= 2


# --- 9: the store goes away between Slack's answer and its record -----------------------------------


class StoreGoesAwayAfterThePost(SlackSurface):
    def __init__(self, bot: BotHarness, database: PrivatePostgres) -> None:
        super().__init__(without_rate_limit_waits(web_client(bot.backends.settings)))
        self.database = database

    async def post(
        self, message: Message, *, channel: str | None = None, thread: CardRef | None = None
    ) -> CardRef:
        ref = await super().post(message, channel=channel, thread=thread)
        await self.database.stop()
        return ref


async def test_a_post_whose_record_the_store_missed_is_recorded_once_it_is_back_not_a_lease_later(
    bot_settings: Settings,
) -> None:
    async with private_postgres() as database:
        settings = bot_settings.model_copy(
            update={"alert_routes": [OPS], "state_url": SecretStr(database.url)}
        )
        async with running_bot(settings) as bot:
            await Incidents(bot.backends.state.engine).observe([failed_run()], (), NOW)
            with pytest.raises((OSError, SQLAlchemyError)) as raised:
                await alert(bot.backends, StoreGoesAwayAfterThePost(bot, database), now=NOW)
            assert unreachable(raised.value)
            await database.start()

            assert await alert(bot.backends, surface_of(bot), now=NOW + timedelta(minutes=1)) == [
                "run:amd_payment"
            ]
            assert len(top_level(bot, "C_OPS")) == 1
            delivery = await Deliveries(bot.backends.state.engine, holder="", lease_s=LEASE_S).get(
                "alert:run:amd_payment:0:C_OPS"
            )
            assert delivery is not None and delivery.state == "posted"
