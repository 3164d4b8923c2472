"""An alert tells the whole story in one place (issue 22): edited when it recovers, one thread per
incident and per root cause, every state change a line of the thread, read back from FakeSlack as a
person would see the channel."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.alerts import threads
from bot.alerts.delivery import Sender
from bot.alerts.views import recovered_message, thread_line
from bot.foundation.access_rules import AccessRule
from bot.foundation.alert_routes import AlertRoute
from bot.foundation.settings import Settings
from bot.render.slack import to_blocks
from bot.state.incidents import Finding, Incidents
from tests.support.bot import BotHarness, running_bot
from tests.support.golden import assert_golden
from tests.test_alerts import SHOP, alert_until_settled, failed_run, incident, surface_of, text_of
from tests.test_alerts_views import RUN, faces

OPS = AlertRoute(name="ops", channel="C_OPS", schedule="0 8 * * *", immediate=["run", "test", "stale"])


@pytest.fixture
async def bot(bot_settings: Settings) -> AsyncIterator[BotHarness]:
    settings = bot_settings.model_copy(
        update={
            "alert_routes": [OPS],
            "alert_suppress_s": 3600,
            "alert_renotify_s": 4 * 3600,
            "access": [AccessRule(action="alerts*", users=["U_OPS"])],
        }
    )
    async with running_bot(settings) as harness:
        yield harness


def top_level(bot: BotHarness) -> list[dict[str, Any]]:
    return [m for m in bot.slack.messages("C_OPS") if "thread_ts" not in m]


def thread_of(bot: BotHarness, root: dict[str, Any]) -> list[str]:
    return [text_of(m) for m in bot.slack.messages("C_OPS") if m.get("thread_ts") == root["ts"]]


async def test_a_recovery_edits_the_alert_and_a_repeat_within_the_suppression_is_a_thread_reply(
    bot: BotHarness,
) -> None:
    store, now = Incidents(bot.backends.state.engine), datetime.now(UTC)
    await store.observe([failed_run()], (), now)
    assert await alert_until_settled(bot, now) == ["run:amd_payment"]

    await store.observe((), {"run:amd_payment"}, now + timedelta(minutes=20))
    await alert_until_settled(bot, now + timedelta(minutes=20))
    (alert,) = top_level(bot)
    assert "✓ recovered" in text_of(alert) and "lasted 20 min" in text_of(alert)
    assert not [b for b in alert["blocks"] if b["type"] == "actions"]  # no Re-run on a green DAG
    assert alert.get("edited")
    assert [t for t in thread_of(bot, alert) if "✓ recovered at" in t]

    await store.observe([failed_run(run_id="r2")], (), now + timedelta(minutes=30))
    assert await alert_until_settled(bot, now + timedelta(minutes=30)) == ["run:amd_payment"]
    assert len(top_level(bot)) == 1
    assert [t for t in thread_of(bot, alert) if "failed again" in t and "r2" in t]


async def test_a_failed_run_its_failing_test_and_a_stale_entity_downstream_are_one_message_and_its_thread(
    bot: BotHarness,
) -> None:
    bot.backends.catalog = SHOP
    store, now = Incidents(bot.backends.state.engine), datetime.now(UTC)
    run = Finding(
        key="run:shop_orders",
        kind="run",
        subject="shop_orders",
        summary="DAG `shop_orders` failed",
        severity="critical",
        dag="shop_orders",
        detail={"failed_tasks": ["not_null_orders_id"]},
    )
    await store.observe([run], (), now)
    await alert_until_settled(bot, now)
    test = Finding(
        key="test:test.shop.not_null_orders_id",
        kind="test",
        subject="not_null_orders_id",
        summary="test `not_null_orders_id` failed",
        severity="critical",
        detail={"model": "model.shop.orders"},
    )
    stale = Finding(
        key="stale:revenue",
        kind="stale",
        subject="revenue",
        summary="`revenue` is stale",
        severity="critical",
        entity="revenue",
    )
    await store.observe([test, stale], (), now + timedelta(minutes=5))
    await alert_until_settled(bot, now + timedelta(minutes=5))

    (root,) = top_level(bot)
    assert "DAG `shop_orders` failed" in text_of(root) and "+ 2 downstream findings" in text_of(root)
    lines = thread_of(bot, root)
    assert [t for t in lines if "not_null_orders_id" in t] and [t for t in lines if "revenue" in t]
    assert await alert_until_settled(bot, now + timedelta(minutes=6)) == []


async def test_every_state_change_is_a_thread_line_and_the_timeline_command_shows_them(
    bot: BotHarness,
) -> None:
    store, now = Incidents(bot.backends.state.engine), datetime.now(UTC)
    await store.observe([failed_run()], (), now)
    await alert_until_settled(bot, now)
    (alert,) = top_level(bot)

    await bot.press("C_OPS", alert, "Acknowledge", user="U_OPS")
    for _ in range(100):
        if [t for t in thread_of(bot, alert) if "acknowledged by <@U_OPS>" in t]:
            break
        await asyncio.sleep(0.1)
    assert [t for t in thread_of(bot, alert) if "acknowledged by <@U_OPS>" in t]

    (answer,) = await bot.answers(await bot.slash("/amd alerts run:amd_payment", user="U_OPS"))
    assert "acknowledged by <@U_OPS>" in str(answer) and "DAG `amd_payment` failed" in str(answer)


async def test_a_re_run_requested_and_a_resolve_by_a_person_are_thread_lines_and_in_the_timeline(
    bot: BotHarness,
) -> None:
    store, now = Incidents(bot.backends.state.engine), datetime.now(UTC)
    await store.observe([failed_run()], (), now)
    await alert_until_settled(bot, now)
    (alert,) = top_level(bot)
    link = "<http://airflow.example/dags/amd_payment/runs/scheduled__1|scheduled__1>"
    sender = Sender(bot.backends, surface_of(bot))

    await threads.rerun_line(sender, "amd_payment", by="U_OPS", run=link, now=now)
    await threads.rerun_line(sender, "amd_payment", by="U_OPS", run=link, now=now)  # another replica

    said = [t for t in thread_of(bot, alert) if "re-run requested by <@U_OPS>" in t]
    assert len(said) == 1 and "scheduled__1" in said[0]
    await store.act("run:amd_payment", "resolved", by="U_OPS", now=now + timedelta(minutes=2), until=None)
    await alert_until_settled(bot, now + timedelta(minutes=2))
    assert [t for t in thread_of(bot, alert) if "resolved by <@U_OPS>" in t]
    (answer,) = await bot.answers(await bot.slash("/amd alerts run:amd_payment", user="U_OPS"))
    timeline = str(answer)
    assert "re-run requested by <@U_OPS>" in timeline and "scheduled__1" in timeline
    assert timeline.index("re-run requested") < timeline.index("resolved by <@U_OPS>")


async def test_resolve_by_a_person_edits_the_alert_and_an_alert_deleted_in_slack_is_posted_again_once(
    bot: BotHarness,
) -> None:
    store, now = Incidents(bot.backends.state.engine), datetime.now(UTC)
    await store.observe([failed_run()], (), now)
    await alert_until_settled(bot, now)
    (alert,) = top_level(bot)
    bot.slack.delete_message("C_OPS", alert["ts"])

    await store.act("run:amd_payment", "resolved", by="U_OPS", now=now + timedelta(minutes=3), until=None)
    for minute in (3, 4, 5):
        await alert_until_settled(bot, now + timedelta(minutes=minute))
    (again,) = top_level(bot)
    assert "by <@U_OPS>" in text_of(again)
    assert len(bot.slack.calls_to("chat.update")) == 1  # tried once, then posted anew: never edited forever


def test_the_recovered_alert_and_its_thread_lines_are_pinned() -> None:
    opened = datetime(2026, 11, 30, 6, 12, tzinfo=UTC)
    told = incident(RUN, opened)
    recovered = replace(
        told,
        state="resolved",
        resolved_at=opened + timedelta(hours=1, minutes=35),
        acted_by="U_ANA",
        acted_at=opened + timedelta(minutes=10),
        detail={**told.detail, "recovered_run_id": "manual__2026-11-30T07:40"},
    )
    message = recovered_message(recovered, SHOP)
    assert to_blocks(message)
    test = Finding(
        key="test:test.shop.not_null_orders_id",
        kind="test",
        subject="not_null_orders_id",
        summary="test `not_null_orders_id` failed (3 failing rows)",
    )
    stale = Finding(
        key="stale:revenue",
        kind="stale",
        subject="revenue",
        summary="`revenue` is stale: last load 1 d 2 h ago (SLA 24 h)",
    )
    lines = [
        threads.joined_line(incident(test, opened), told),
        threads.joined_line(incident(stale, opened), told),
        "acknowledged by <@U_ANA> at 2026-11-30 06:22 UTC",
        "↻ failed again at 2026-11-30 06:40 UTC: DAG `shop_orders` failed (run `scheduled__2026-11-30`)",
        "✓ recovered at 2026-11-30 07:47 UTC by run `manual__2026-11-30T07:40`",
    ]
    assert_golden(
        "alerts_recovered.json",
        {"alert": faces(message), "thread": [faces(thread_line(line)) for line in lines]},
    )
