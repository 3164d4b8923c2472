"""Issue 2 end to end: signed slash commands over the real HTTP path, answers received by FakeSlack."""

import asyncio
import time

import pytest

from bot.foundation.settings import Settings
from bot.render.message import Message, Text
from bot.surfaces.slack import SlackSurface, slack_session, web_client
from tests.support.blackhole import black_hole
from tests.support.bot import BotHarness, running_bot, sign
from tests.support.slow import SlowWarehouse


async def test_stats_for_all_entities_is_acked_then_answered_in_channel(bot: BotHarness) -> None:
    reply = await bot.slash("/amd stats", user="U1", channel="C1")
    assert reply.status == 200
    assert "Reading all entities" in reply.body
    (answer,) = await bot.answers(reply)
    assert answer["response_type"] == "in_channel"
    text = str(answer["blocks"])
    for entity in ("user", "purchase", "payment", "delivery_address"):
        assert entity in text
    assert "STALE" in text and ":x: Stale: `delivery_address`" in text


async def test_all_entities_cost_one_warehouse_query_and_a_repeat_costs_none(bot: BotHarness) -> None:
    warehouse = bot.backends.warehouse
    before = warehouse.queries  # type: ignore[attr-defined]
    await bot.answers(await bot.slash("/amd stats"))
    assert warehouse.queries == before + 1  # type: ignore[attr-defined]
    await bot.answers(await bot.slash("/amd stats"))
    assert warehouse.queries == before + 1  # type: ignore[attr-defined]


async def test_one_entity_has_details_and_a_chart_uploaded_to_the_channel(bot: BotHarness) -> None:
    reply = await bot.slash("/amd stats payment", channel="C_PAY")
    (answer,) = await bot.answers(reply)
    fields = str(answer["blocks"])
    for expected in ("Rows", "Last load", "Freshness", "payments-team", "#amd-payments-support", "Columns"):
        assert expected in fields
    (upload,) = await bot.slack.wait_for("files.completeUploadExternal")
    assert upload.args.get("channel_id") == "C_PAY"
    assert len(bot.slack.uploads) == 1
    (stored,) = bot.slack.uploads.values()
    assert stored.content.startswith(b"\x89PNG")


async def test_a_typo_gets_a_suggestion_in_the_ack_and_runs_nothing(bot: BotHarness) -> None:
    before = bot.backends.warehouse.queries  # type: ignore[attr-defined]
    reply = await bot.slash("/amd stats paymnt")
    assert reply.status == 200
    assert "No entity `paymnt`. Did you mean `payment`?" in reply.body
    await asyncio.sleep(0.3)
    assert bot.backends.warehouse.queries == before  # type: ignore[attr-defined]
    assert bot.slack.responses(reply.response_url) == []  # the ack was the whole answer
    audit = await bot.backends.state.recent_audit(1)
    assert audit[0].outcome == "usage"


async def test_unknown_and_absurd_input_get_usage_never_a_traceback(bot: BotHarness) -> None:
    for text in (
        "/amd frobnicate",
        "/amd",
        "/amd " + "x" * 10_000,
        "/amd stats \x00\x07",
        "/amd stats '; DROP TABLE x;",
    ):
        reply = await bot.slash(text)
        assert reply.status == 200, text
        assert ":warning:" in reply.body, text
        assert "Traceback" not in reply.body


async def test_bad_signatures_are_refused_and_nothing_runs(bot: BotHarness) -> None:
    url = bot.slack.new_response_url()
    body = bot.form("/amd stats", user="U1", channel="C1", response_url=url)
    wrong = sign(body, secret="not-the-secret")
    old = sign(body, timestamp=int(time.time()) - 6 * 60)
    for headers in (wrong, old, {"Content-Type": "application/x-www-form-urlencoded"}):
        status, _ = await bot.post(body, headers)
        assert status == 401
    await asyncio.sleep(0.3)
    assert bot.slack.responses(url) == []
    assert await bot.backends.state.recent_audit() == []


async def test_every_command_is_audited_with_outcome_and_duration(bot: BotHarness) -> None:
    await bot.answers(await bot.slash("/amd help", user="U_AUD", channel="C_AUD"))
    for _ in range(50):
        audit = await bot.backends.state.recent_audit(1)
        if audit:
            break
        await asyncio.sleep(0.05)
    (entry,) = audit
    assert (entry.user_id, entry.channel_id, entry.command, entry.outcome) == ("U_AUD", "C_AUD", "help", "ok")
    assert entry.text == "help" and entry.duration_ms >= 0


async def test_the_ack_never_waits_for_a_slow_warehouse(bot_settings: Settings) -> None:
    from bot.wiring import build_warehouse

    slow = SlowWarehouse(build_warehouse(bot_settings), delay_s=5.0)
    async with running_bot(bot_settings, warehouse=slow) as bot:
        reply = await bot.slash("/amd stats")
        assert reply.status == 200
        assert reply.elapsed_s < 3.0  # Slack's limit; in practice a few ms
        assert bot.slack.responses(reply.response_url) == []  # the warehouse is still busy
        (answer,) = await bot.answers(reply, timeout=30)
        assert "delivery_address" in str(answer["blocks"])


async def test_healthz_and_readyz(bot: BotHarness) -> None:
    async with bot._session.get(f"{bot.url}/healthz") as resp:
        assert resp.status == 200 and (await resp.json()) == {"ok": True}
    async with bot._session.get(f"{bot.url}/readyz") as resp:
        assert resp.status == 200 and (await resp.json())["entities"] == 4


async def test_a_refused_button_press_answers_without_replacing_the_card(bot: BotHarness) -> None:
    stale = {"action_id": "amd:nosuch.thing:0:0", "value": "x"}  # a button from an older version
    click = await bot.click(stale, user="U_BYSTANDER", channel="C1", message_ts="1700000000.000100")
    assert click.status == 200
    (answer,) = await bot.answers(click)
    assert answer["replace_original"] is False  # the public card stays as it was
    assert "older version of amd-bot" in answer["text"]


async def test_a_slack_that_never_answers_costs_at_most_the_configured_timeout(
    bot_settings: Settings,
) -> None:
    async with black_hole() as port:
        settings = bot_settings.model_copy(
            update={"slack_api_url": f"http://127.0.0.1:{port}/api/", "slack_timeout_s": 1}
        )
        async with slack_session(settings) as session:
            client = web_client(settings, session)
            hook = f"http://127.0.0.1:{port}/commands/T1/1"
            message = Message((Text("hello"),), fallback="hello")
            for call in (
                SlackSurface(client, channel="C1").post(message),
                SlackSurface(client, channel="C1", response_url=hook).respond(message),
            ):
                started = time.monotonic()
                async with asyncio.timeout(15):  # 1 s per attempt, and the SDK's retries
                    with pytest.raises(TimeoutError):
                        await call
                assert time.monotonic() - started < 15
