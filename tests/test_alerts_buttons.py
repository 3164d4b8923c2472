"""Immediate alerts end to end: posted once into FakeSlack, told again only when due, and their buttons
pressed as Slack presses them (signed requests to the bot's HTTP endpoint), checked against access rules."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.alerts.deliver import alert
from bot.foundation.access_rules import AccessRule
from bot.foundation.alert_routes import AlertRoute
from bot.foundation.settings import Settings
from bot.state.incidents import Incidents
from tests.support.bot import BotHarness, running_bot
from tests.test_alerts import alert_until_settled, failed_run, surface_of, text_of

ROUTE = AlertRoute(name="ops", channel="C_OPS", schedule="0 8 * * *")


@pytest.fixture
async def bot(bot_settings: Settings) -> AsyncIterator[BotHarness]:
    settings = bot_settings.model_copy(
        update={
            "alert_routes": [ROUTE],
            "alert_suppress_s": 3600,
            "alert_renotify_s": 4 * 3600,
            "access": [
                AccessRule(action="alerts.*", users=["U_OPS"]),
                AccessRule(action="run.rerun:amd_payment", users=["U_OPS"]),
                AccessRule(action="digest*", users=["U_OPS"]),
            ],
        }
    )
    async with running_bot(settings) as harness:
        yield harness


def alerts_in(bot: BotHarness) -> list[dict[str, object]]:
    return [m for m in bot.slack.messages("C_OPS") if "thread_ts" not in m]


async def test_a_failure_is_alerted_once_then_again_only_when_unacknowledged_for_the_renotify_time(
    bot: BotHarness,
) -> None:
    store, surface = Incidents(bot.backends.state.engine), surface_of(bot)
    now = datetime.now(UTC)
    await store.observe([failed_run()], (), now)

    assert await alert(bot.backends, surface, now=now) == ["run:amd_payment"]
    assert await alert(bot.backends, surface, now=now + timedelta(minutes=1)) == []
    (told,) = alerts_in(bot)
    shown = text_of(told)
    assert "DAG `amd_payment` failed" in shown and "payments-team" in shown
    assert [e["text"]["text"] for b in told["blocks"] if b["type"] == "actions" for e in b["elements"]] == [
        "Acknowledge",
        "Snooze 1h",
        "Snooze 24h",
        "Snooze until green",
        "Resolve",
        "Re-run failed",
        "Re-run with parameters",
    ]

    assert await alert(bot.backends, surface, now=now + timedelta(hours=4, minutes=1)) == ["run:amd_payment"]
    assert len(alerts_in(bot)) == 1  # told again in the alert's thread, broadcast to the channel
    (again,) = [m for m in bot.slack.messages("C_OPS") if m.get("thread_ts") == told["ts"]]
    assert "told 2 times" in text_of(again) and again["subtype"] == "thread_broadcast"


async def test_a_flapping_failure_stays_in_its_thread_within_the_suppression_interval(
    bot: BotHarness,
) -> None:
    store, surface = Incidents(bot.backends.state.engine), surface_of(bot)
    now = datetime.now(UTC)
    await store.observe([failed_run()], (), now)
    await alert(bot.backends, surface, now=now)
    (first,) = alerts_in(bot)
    for minutes in (10, 20, 30):  # recovers and fails again, three times within the hour
        await store.observe((), {"run:amd_payment"}, now + timedelta(minutes=minutes))
        await alert_until_settled(bot, now + timedelta(minutes=minutes))
        await store.observe([failed_run(run_id=f"r{minutes}")], (), now + timedelta(minutes=minutes + 5))
        await alert_until_settled(bot, now + timedelta(minutes=minutes + 5))
    assert len(alerts_in(bot)) == 1  # the first message, edited; the rest is in its thread
    thread = [text_of(m) for m in bot.slack.messages("C_OPS") if m.get("thread_ts") == first["ts"]]
    assert len([t for t in thread if "recovered" in t]) == 3
    assert len([t for t in thread if "failed again" in t]) == 3
    await store.observe((), {"run:amd_payment"}, now + timedelta(minutes=70))
    await store.observe([failed_run(run_id="r75")], (), now + timedelta(minutes=75 + 60))
    assert await alert_until_settled(bot, now + timedelta(minutes=75 + 60)) == ["run:amd_payment"]
    assert len(alerts_in(bot)) == 2  # failed again long after it was last told: a new message


async def test_acknowledge_updates_the_alert_in_place_and_stops_reminders(bot: BotHarness) -> None:
    store, surface = Incidents(bot.backends.state.engine), surface_of(bot)
    now = datetime.now(UTC)
    await store.observe([failed_run()], (), now)
    await alert(bot.backends, surface, now=now)
    (told,) = alerts_in(bot)

    refused = await bot.press("C_OPS", told, "Acknowledge", user="U_OTHER")
    (answer,) = await bot.answers(refused)
    assert "You may not do that here" in str(answer)
    assert "acknowledged" not in text_of(alerts_in(bot)[0])

    await bot.press("C_OPS", told, "Acknowledge", user="U_OPS")
    for _ in range(100):
        if "acknowledged by <@U_OPS>" in text_of(alerts_in(bot)[0]):
            break
        await asyncio.sleep(0.1)
    (updated,) = alerts_in(bot)
    assert "acknowledged by <@U_OPS>" in text_of(updated)
    assert not [b for b in updated["blocks"] if b["type"] == "actions"]  # the buttons are gone
    assert await alert(bot.backends, surface, now=now + timedelta(hours=5)) == []


async def test_snooze_holds_the_reminder_until_it_runs_out(bot: BotHarness) -> None:
    store, surface = Incidents(bot.backends.state.engine), surface_of(bot)
    now = datetime.now(UTC)
    await store.observe([failed_run()], (), now)
    await alert(bot.backends, surface, now=now)
    await bot.press("C_OPS", alerts_in(bot)[0], "Snooze 1h", user="U_OPS")
    for _ in range(100):
        if "snoozed until" in text_of(alerts_in(bot)[0]):
            break
        await asyncio.sleep(0.1)
    assert "snoozed until" in text_of(alerts_in(bot)[0])
    snoozed = await store.get("run:amd_payment")
    assert snoozed is not None and snoozed.snoozed_until is not None
    assert await alert(bot.backends, surface, now=snoozed.snoozed_until - timedelta(minutes=1)) == []
    assert await alert(bot.backends, surface, now=snoozed.snoozed_until + timedelta(minutes=1)) == [
        "run:amd_payment"
    ]


async def test_re_run_failed_asks_first_through_the_run_commands_confirmation(bot: BotHarness) -> None:
    store, surface = Incidents(bot.backends.state.engine), surface_of(bot)
    now = datetime.now(UTC)
    await store.observe([failed_run()], (), now)
    await alert(bot.backends, surface, now=now)
    refused = await bot.press("C_OPS", alerts_in(bot)[0], "Re-run failed", user="U_OTHER")
    (answer,) = await bot.answers(refused)
    assert "You may not do that here" in str(answer)
    assert "run.rerun:amd_payment" in str(answer) or "no rule allows" in str(answer)

    await bot.press("C_OPS", alerts_in(bot)[0], "Re-run failed", user="U_OPS")
    for _ in range(100):
        replies = [m for m in bot.slack.messages("C_OPS") if "thread_ts" in m]
        if replies:
            break
        await asyncio.sleep(0.1)
    (reply,) = replies  # the run command's own check: this run is not one the local runner knows
    assert "Run `scheduled__1` is unknown to local" in text_of(reply)


async def test_digest_send_is_access_checked_and_posts_the_routes_digest_now(bot: BotHarness) -> None:
    await Incidents(bot.backends.state.engine).observe([failed_run()], (), datetime.now(UTC))

    refused = await bot.slash("/amd digest send", user="U_OTHER")  # the ack itself says no
    assert "You may not `digest.send:*` here" in refused.body
    assert alerts_in(bot) == []

    (answer,) = await bot.answers(await bot.slash("/amd digest send ops", user="U_OPS"))
    assert "Digest sent: ops → C_OPS." in str(answer)
    (digest,) = alerts_in(bot)
    assert "Data digest: C_OPS" in text_of(digest) and "amd_payment" in text_of(digest)
    (thread,) = [m for m in bot.slack.messages("C_OPS") if m.get("thread_ts") == digest["ts"]]
    assert "run:amd_payment" in text_of(thread)  # the details, in the digest's thread

    usage = await bot.slash("/amd digest sned", user="U_OPS")
    assert "No digest action `sned`. Did you mean `send`?" in usage.body
