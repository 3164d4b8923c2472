"""`/amd test` end to end (signed slash commands and button presses over HTTP, FakeSlack recording
what Slack would show; the console for the same handlers as text), and its card views pinned by
golden files."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import re
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from bot.foundation.dbt_port import DbtInvocation, DbtProgress, SourceFreshness
from bot.foundation.dbt_port import TestOutcome as Outcome  # a Test* name pytest would collect
from bot.foundation.ports import Relation
from bot.foundation.settings import Settings
from bot.render.console import to_text
from bot.render.slack import MAX_BLOCKS, MAX_TOTAL_TEXT, to_blocks
from bot.state import results as state_tests
from commands.test import views
from commands.test.views import Owners, failure_list, freshness_card, lost_card, progress_card, result_card
from tests.support.bot import BotHarness, running_bot
from tests.support.golden import assert_golden
from tests.support.slow_dbt import slow_dbt

FAILING = "non_negative_payment_amount_cents"
PAYMENTS_GROUP = "S0PAYMENTS"

# --- helpers ---------------------------------------------------------------------------------------


def text_of(message: dict[str, Any]) -> str:
    return json.dumps(message.get("blocks", []), ensure_ascii=False) + message.get("text", "")


async def settled_card(
    bot: BotHarness, channel: str, *, title: str, timeout: float = 120.0
) -> dict[str, Any]:
    """The top-level card with `title` once it shows a result (its context says "finished")."""
    async with asyncio.timeout(timeout):
        while True:
            for message in bot.slack.messages(channel):
                if (
                    "thread_ts" not in message
                    and title in text_of(message)
                    and "finished" in text_of(message)
                ):
                    return message
            await asyncio.sleep(0.1)


async def posted_card(bot: BotHarness, channel: str, *, title: str, timeout: float = 60.0) -> dict[str, Any]:
    """The top-level card with `title` as soon as it is posted."""
    async with asyncio.timeout(timeout):
        while True:
            for message in bot.slack.messages(channel):
                if "thread_ts" not in message and title in text_of(message):
                    return message
            await asyncio.sleep(0.05)


def card_button(card: dict[str, Any], label: str) -> dict[str, Any]:
    (button,) = [
        e
        for b in card["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["text"]["text"] == label
    ]
    return button


def thread(bot: BotHarness, channel: str, card: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in bot.slack.messages(channel) if m.get("thread_ts") == card["ts"]]


async def press(bot: BotHarness, channel: str, card: dict[str, Any], label: str, user: str = "U1") -> None:
    """Click the card's button labelled `label`, as Slack posts a block_actions payload."""
    assert (await bot.press(channel, card, label, user)).status == 200


def negative_payments(settings: Settings) -> int:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as db:
        (count,) = db.execute("select count(*) from amd.payment where amount_cents < 0").fetchone() or (0,)
    return int(count)


# --- through Slack (HTTP) --------------------------------------------------------------------------


@pytest.mark.slow
async def test_failing_tests_end_in_one_card_with_counts_owner_and_buttons(bot_settings: Settings) -> None:
    settings = bot_settings.model_copy(update={"owners": {"payments-team": PAYMENTS_GROUP}})
    async with running_bot(settings) as bot:
        started = datetime.now(UTC)
        reply = await bot.slash("/amd test payment", user="U1", channel="C1")
        assert reply.status == 200
        assert "Running dbt tests on `payment`" in reply.body
        assert reply.elapsed_s < 3.0

        card = await settled_card(bot, "C1", title="dbt test: payment")
        shown = text_of(card)
        assert [m for m in bot.slack.messages("C1") if "thread_ts" not in m] == [card]  # ONE card
        assert re.search(r"1 of \d+ tests failed", shown)
        assert f"`{FAILING}`: {negative_payments(settings)} failing rows" in shown
        assert "column `amount_cents`" in shown
        assert "severity error" in shown
        assert f"owner <!subteam^{PAYMENTS_GROUP}>" in shown
        labels = [e["text"]["text"] for b in card["blocks"] if b["type"] == "actions" for e in b["elements"]]
        assert labels == ["Show failing rows", "Show SQL", "Re-run failed"]
        async with asyncio.timeout(30):  # the ping follows the card's last update
            while not thread(bot, "C1", card):
                await asyncio.sleep(0.05)
        (ping,) = thread(bot, "C1", card)  # mentions notify only in a new message, not in an edit
        assert f"<!subteam^{PAYMENTS_GROUP}>" in ping["text"]

        updates = [c for c in bot.slack.calls_to("chat.update") if c.args.get("ts") == card["ts"]]
        progress = [c.at for c in updates[:-1]]
        assert all(b - a >= 1.9 for a, b in itertools.pairwise(progress))  # throttled

        store = state_tests.TestResults(bot.backends.state.engine)
        (failed,) = await store.failed_since(started)
        assert (failed.name, failed.status, failed.owner, failed.requested_by) == (
            FAILING,
            "fail",
            "payments-team",
            "U1",
        )
        assert failed.model == "model.amd.payment"
        assert failed.invocation_id


@pytest.mark.slow
async def test_buttons_answer_in_the_thread_and_rerun_only_the_failed_test(bot: BotHarness) -> None:
    await bot.slash("/amd test payment", user="U1", channel="C2")
    card = await settled_card(bot, "C2", title="dbt test: payment")

    await press(bot, "C2", card, "Show failing rows")
    await press(bot, "C2", card, "Show SQL")
    async with asyncio.timeout(30):
        while len(thread(bot, "C2", card)) < 3:
            await asyncio.sleep(0.1)
    replies = " ".join(text_of(m) for m in thread(bot, "C2", card))
    assert f"Failing rows of `{FAILING}`" in replies
    assert "amount_cents" in replies
    assert "-" in replies  # negative amounts in the sampled rows
    assert "where amount_cents < 0" in replies
    assert bot.slack.message("C2", card["ts"])["blocks"] == card["blocks"]  # the card itself is untouched

    await press(bot, "C2", card, "Re-run failed")
    rerun = await settled_card(bot, "C2", title=f"dbt test: {FAILING}")
    assert "1 of 1 tests failed" in text_of(rerun)
    assert "re-run of the failures of" in text_of(rerun)


async def test_an_unknown_selector_is_refused_with_a_suggestion_and_runs_nothing(bot: BotHarness) -> None:
    runs = bot.backends.settings.home / "dbt" / "runs"
    before = set(runs.iterdir()) if runs.exists() else set()
    for text, expected in (
        ("/amd test paymnt", "Did you mean `payment`?"),
        ("/amd test +paymnt+", "Did you mean `payment`?"),
        ("/amd test source:event", "Did you mean `events`?"),
        ("/amd test path:models/nowhere", "No path `models/nowhere`"),
        ("/amd test 'payment; rm -rf /'", "is not a selector I accept"),
        ("/amd test $(reboot)", "is not a selector I accept"),
        ("/amd test payment --freshness", "stand alone"),
        ("/amd test nosuchmethod:payment", "not a selector method I accept"),
    ):
        reply = await bot.slash(text)
        assert reply.status == 200, text
        assert expected in reply.body, (text, reply.body)
    await asyncio.sleep(0.3)
    assert [m for m in bot.slack.messages("C1") if "dbt test" in text_of(m)] == []
    assert (set(runs.iterdir()) if runs.exists() else set()) == before


@pytest.mark.slow
async def test_cancel_stops_my_running_tests(bot: BotHarness) -> None:
    await bot.slash("/amd test", user="U7", channel="C3")
    # The card is posted when the run starts; dbt then needs seconds to parse, so the cancel below
    # lands mid-run. (Waiting for the card's "Running:" text raced: updates are throttled to one
    # per 2 s, and a fast run can go from "Starting" to its final state without showing it.)
    async with asyncio.timeout(60):
        while not any("dbt test: every test" in text_of(m) for m in bot.slack.messages("C3")):
            await asyncio.sleep(0.05)

    reply = await bot.slash("/amd test cancel", user="U7", channel="C3")
    (answer,) = await bot.answers(reply)
    assert "Cancelling `test-" in str(answer)
    card = await settled_card(bot, "C3", title="dbt test: every test")
    assert "Cancelled before it finished" in text_of(card)
    nothing = await bot.answers(await bot.slash("/amd test cancel", user="U7", channel="C3"))
    assert "Nothing you started is running" in str(nothing)


async def test_a_dbt_run_over_its_time_limit_is_stopped_and_the_card_says_so(bot_settings: Settings) -> None:
    settings = bot_settings.model_copy(update={"dbt_timeout_s": 1.0})  # dbt needs seconds to parse
    async with running_bot(settings) as bot:
        await bot.slash("/amd test payment", user="U1", channel="C5")
        card = await settled_card(bot, "C5", title="dbt test: payment", timeout=60)

        shown = text_of(card)
        assert "Stopped after" in shown
        assert "longer than the time limit for dbt runs (AMD_DBT_TIMEOUT_S)" in shown
        assert dbt_processes_under(settings.home) == []  # the whole process group is gone


def dbt_processes_under(home: Path) -> list[str]:
    """Command lines of live processes whose arguments point into `home` (the bot's dbt runs)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(str(home).encode() in arg for arg in argv):
            found.append(b" ".join(argv).decode(errors="replace"))
    return found


@pytest.mark.slow
async def test_only_the_requester_or_an_admin_may_cancel_a_test_run(
    bot_settings: Settings, tmp_path: Path
) -> None:
    settings = bot_settings.model_copy(
        update={"admins": ["U_ADMIN"], "dbt_executable": slow_dbt(tmp_path, 60)}
    )
    async with running_bot(settings) as bot:
        await bot.slash("/amd test payment", user="U7", channel="C4")
        card = await posted_card(bot, "C4", title="dbt test: payment")
        run_key = card_button(card, "Cancel")["value"]

        refused = await bot.press("C4", card, "Cancel", user="U8")
        (answer,) = await bot.answers(refused)
        assert "Only <@U7>, who started it, or an amd-bot admin can cancel it." in str(answer)
        nothing = await bot.answers(await bot.slash("/amd test cancel", user="U8", channel="C4"))
        assert "Nothing you started is running" in str(nothing)
        store = state_tests.TestResults(bot.backends.state.engine)
        assert (await store.run(run_key)).status == "running"  # type: ignore[union-attr]

        await press(bot, "C4", card, "Cancel", user="U_ADMIN")
        cancelled = await settled_card(bot, "C4", title="dbt test: payment")
        assert "Cancelled before it finished" in text_of(cancelled)
        assert (await store.run(run_key)).status == "cancelled"  # type: ignore[union-attr]


# --- through the console ---------------------------------------------------------------------------


@pytest.mark.slow
async def test_freshness_and_unresolved_owners_in_the_console(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="commands.test"):
        out = await bot.console("/amd test --freshness", "/amd test payment")

    assert "Every source is fresh." in out
    assert "events.events  pass" in out
    assert "owner payments-team" in out  # no Slack id configured: shown as text, never dropped
    assert "payments-team (1 failing)" in out
    assert "has no Slack id" not in caplog.text  # said once at start (bot/runtime.py), not at every test


# --- the views (pure), pinned by golden files ------------------------------------------------------

T0 = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
REQUEST = views.TestRequest("test-0123456789ab", "test", "+payment", "U1")
OWNERS = Owners(
    {"model.amd.payment": "payments-team", "model.amd.purchase": "jonas.w", "model.amd.user": None},
    {"payments-team": f"<!subteam^{PAYMENTS_GROUP}>"},
)


def outcome(
    name: str, status: str, failures: int = 0, model: str = "model.amd.payment", **extra: Any
) -> Outcome:
    return Outcome(
        unique_id=f"test.amd.{name}.{zlib.crc32(name.encode()):010d}",
        name=name,
        status=status,  # type: ignore[arg-type]
        failures=failures,
        message=None,
        model=model,
        column=extra.get("column", "amount_cents"),
        severity=extra.get("severity", "error"),
        execution_time=0.1,
        compiled_code=None if status == "pass" else f"select * from x where {name}",
        failures_relation=Relation("warehouse", "amd_dbt_test__audit", name) if failures else None,
    )


def invocation(*outcomes: Outcome, **extra: Any) -> DbtInvocation:
    return DbtInvocation(
        "inv-1",
        "test",
        "+payment",
        extra.pop("exit_code", 1),
        outcomes,
        T0,
        T0 + timedelta(seconds=42),
        **extra,
    )


MIXED = invocation(
    outcome("non_negative_payment_amount_cents", "fail", 7),
    outcome("not_null_payment_payment_id", "pass"),
    outcome(
        "accepted_values_purchase_currency",
        "warn",
        2,
        "model.amd.purchase",
        column="currency",
        severity="warn",
    ),
    outcome("relationships_purchase_user_id", "error", 0, "model.amd.purchase", column="user_id"),
    outcome("unique_user_user_id", "fail", 1, "model.amd.user", column="user_id"),
    outcome("not_null_user_loaded_at", "skipped", 0, "model.amd.user"),
)
HUGE = invocation(
    *(outcome(f"custom_check_{i:03d}_" + "x" * 60, "fail", i + 1, f"model.amd.m{i % 40}") for i in range(500))
)


def both_faces(message: Any) -> dict[str, Any]:
    return {
        "blocks": to_blocks(message),
        "console": to_text(message).splitlines(),
        "mentions": message.mentions,
    }


@pytest.mark.parametrize(
    ("name", "build"),
    [
        ("test_card_starting.json", lambda: progress_card(REQUEST, None)),
        ("test_card_queued.json", lambda: progress_card(REQUEST, DbtProgress(0, 0, queued=2))),
        (
            "test_card_running.json",
            lambda: progress_card(REQUEST, DbtProgress(3, 8, last="unique_payment_id")),
        ),
        ("test_card_result.json", lambda: result_card(REQUEST, MIXED, OWNERS)),
        (
            "test_card_passed.json",
            lambda: result_card(REQUEST, invocation(outcome("a", "pass"), exit_code=0), OWNERS),
        ),
        (
            "test_card_error.json",
            lambda: result_card(
                REQUEST,
                invocation(exit_code=2, error="Runtime Error\n  'x' is not a valid method name"),
                OWNERS,
            ),
        ),
        (
            "test_card_cancelled.json",
            lambda: result_card(REQUEST, invocation(exit_code=2, error="cancelled", cancelled=True), OWNERS),
        ),
        ("test_card_500_failures.json", lambda: result_card(REQUEST, HUGE, OWNERS)),
        ("test_card_lost.json", lambda: lost_card(REQUEST, "the amd-bot process running it ended.")),
        (
            "test_card_freshness.json",
            lambda: freshness_card(
                views.TestRequest("test-f", "source freshness", None, "U1"),
                invocation(
                    exit_code=1,
                    sources=(
                        SourceFreshness("source.amd.events.events", "events.events", "pass", T0, 180.0),
                        SourceFreshness(
                            "source.amd.raw.gone",
                            "raw.gone",
                            "runtime error",
                            None,
                            None,
                            "Catalog Error: Table gone does not exist",
                        ),
                        SourceFreshness(
                            "source.amd.raw.late", "raw.late", "warn", T0 - timedelta(hours=8), 28800.0
                        ),
                    ),
                ),
            ),
        ),
    ],
)
def test_cards_are_pinned(name: str, build: Any, slack_blocks_validator: Any) -> None:
    message = build()
    blocks = to_blocks(message)
    assert slack_blocks_validator(blocks) == []
    assert_golden(name, both_faces(message))


def test_a_card_with_500_failures_fits_slack_and_lists_the_rest_in_the_thread(
    slack_blocks_validator: Any,
) -> None:
    card = result_card(REQUEST, HUGE, OWNERS)
    blocks = to_blocks(card)

    assert len(blocks) <= MAX_BLOCKS
    assert len(str(blocks)) <= MAX_TOTAL_TEXT
    assert "more parts not shown" not in str(blocks)  # the view chose what to show, not the renderer
    assert "and 492 more; the full list is in the thread" in str(blocks)
    assert "custom_check_499_" in str(blocks)  # worst first: most failing rows
    full = failure_list(REQUEST, HUGE, OWNERS)
    assert full.parts[0].text.count("\n") == 499  # type: ignore[union-attr]


def test_mentions_only_resolved_owners_of_failing_models() -> None:
    card = result_card(REQUEST, MIXED, OWNERS)
    assert card.mentions == (f"<!subteam^{PAYMENTS_GROUP}>",)
    assert "owner jonas.w" in to_text(card)  # unresolved: the handle as text
    assert "*user* · no owner in dbt" in str(card.parts)
