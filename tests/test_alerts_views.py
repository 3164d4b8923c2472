"""Digests and alerts as Slack and the console show them, pinned by golden files; 10,000 open incidents
still make one message inside Slack's limits."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.alerts.digest import build
from bot.alerts.views import alert_message, digest_message
from bot.render.console import to_text
from bot.render.message import Code, Message
from bot.render.slack import MAX_BLOCKS, MAX_TOTAL_TEXT, to_blocks
from bot.state.incidents import Finding
from tests.support.golden import assert_golden
from tests.test_alerts import MONDAY_7, ROUTE, SHOP, failed_run, incident


def faces(message: Message) -> dict[str, Any]:
    return {"blocks": to_blocks(message), "console": to_text(message).splitlines()}


RUN = Finding(
    key="run:shop_orders",
    kind="run",
    subject="shop_orders",
    summary="DAG `shop_orders` failed (run `scheduled__2026-11-30`): `not_null_orders_id`",
    severity="critical",
    dag="shop_orders",
    owner="ana",
    channel="C_OPS",
    detail={
        "run_id": "scheduled__2026-11-30",
        "failed_tasks": ["not_null_orders_id"],
        "url": "https://airflow.example/dags/shop_orders/runs/x",
    },
)
DOWNSTREAM = Finding(
    key="stale:revenue",
    kind="stale",
    subject="revenue",
    summary="`revenue` is stale: last load 30 h ago (SLA 24 h)",
    entity="revenue",
    owner="bo",
    channel="C_OPS",
)
RECOVERED = Finding(
    key="stale:customers", kind="stale", subject="customers", summary="stale", channel="C_OPS"
)


def test_the_digest_and_the_alert_are_pinned(slack_blocks_validator: Any) -> None:
    resolved = incident(RECOVERED, MONDAY_7 - timedelta(days=1))
    resolved = type(resolved)(**{**resolved.__dict__, "state": "resolved", "resolved_at": MONDAY_7})
    incidents = [incident(RUN), incident(DOWNSTREAM), resolved]
    digest = build(
        ROUTE,
        "C_OPS",
        incidents,
        SHOP,
        since=MONDAY_7 - timedelta(hours=1),
        now=MONDAY_7 + timedelta(hours=1),
    )
    message, details = digest_message(digest, SHOP)
    assert slack_blocks_validator(to_blocks(message)) == []
    assert details is not None
    assert_golden("alerts_digest.json", {"digest": faces(message), "thread": faces(details)})

    alert = alert_message(incident(RUN), SHOP, now=MONDAY_7)
    assert slack_blocks_validator(to_blocks(alert)) == []
    assert_golden("alerts_alert.json", faces(alert))


def test_ten_thousand_open_incidents_are_one_message_within_slacks_limits(
    slack_blocks_validator: Any,
) -> None:
    many = [
        incident(
            failed_run(dag=f"amd_dag_{n:05d}", run_id=f"scheduled__{n}"), MONDAY_7 + timedelta(seconds=n)
        )
        for n in range(10_000)
    ]
    digest = build(ROUTE, "C_OPS", many, SHOP, since=None, now=MONDAY_7 + timedelta(days=1))
    message, details = digest_message(digest, SHOP)
    blocks = to_blocks(message)

    assert details is None  # the full list goes with the message, as a file in its thread
    assert slack_blocks_validator(blocks) == []
    assert len(blocks) <= MAX_BLOCKS and len(str(blocks)) <= MAX_TOTAL_TEXT
    assert "more parts not shown" not in str(blocks)  # the view chose what to show, not the renderer
    assert "…and 9,990 more (the full list is in the thread)" in str(blocks)
    assert "10,000 open* (10,000 new)" in str(blocks)
    assert str(blocks).count("Owners: payments-team") == 1  # mentioned once, however many items
    (full,) = [p for p in message.parts if isinstance(p, Code)]
    assert full.text.count("\n") == 9_999
