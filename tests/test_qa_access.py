"""Access in help-channel answers and the App Home, Slack mode: signed events through the real HTTP
endpoint, with rules that let one user read one entity (`payment`) and nothing else. A question about
another subject is refused naming the rule, with no fact; an answer about everything and the Home tab
cover `payment` only and say how many subjects they left out."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.foundation.access_rules import AccessRule
from bot.foundation.settings import Settings
from tests.support.bot import BotHarness, help_settings, running_bot
from tests.test_qa_events import HELP, answered, message

ANNA = "U0ANNA0001"
PAYMENT_ONLY = [
    AccessRule(action="ask*", users=[ANNA]),
    AccessRule(action="home", users=[ANNA]),
    AccessRule(action="stats:payment", users=[ANNA], name="anna reads payment"),
    AccessRule(action="runs:amd_payment", users=[ANNA]),
    AccessRule(action="test:payment", users=[ANNA]),
    AccessRule(action="alerts:payment", users=[ANNA]),
]


@pytest.fixture
async def bot(demo_settings: Settings, tmp_path: Path) -> AsyncIterator[BotHarness]:
    settings = help_settings(demo_settings, tmp_path, HELP, access=PAYMENT_ONLY)
    async with running_bot(settings) as harness:
        yield harness


async def test_a_subject_not_allowed_is_refused_naming_the_rule_and_no_fact(bot: BotHarness) -> None:
    await bot.event(message("is purchase fresh?", user=ANNA), event_id="EvDenied")
    (refused,) = await answered(bot, HELP, 1)
    await bot.event(message("who owns delivery_address?", user=ANNA), event_id="EvDenied2")
    owner = (await answered(bot, HELP, 2))[1]
    await bot.event(message("is payment fresh?", user=ANNA), event_id="EvAllowed")
    allowed = (await answered(bot, HELP, 3))[2]

    assert "You may not read" in refused["text"] and "`stats:purchase`" in refused["text"]
    assert "no rule allows" in refused["text"]
    assert "last load" not in refused["text"] and "as of" not in str(refused["blocks"])
    assert "`stats:delivery_address`" in owner["text"] and "lena.m" not in owner["text"]
    assert "`payment`" in allowed["text"] and "last load" in allowed["text"]


async def test_a_migrations_owner_needs_the_migrations_rule(bot: BotHarness) -> None:
    await bot.event(
        message("who is responsible for the address history migration?", user=ANNA), event_id="EvMig"
    )
    (refused,) = await answered(bot, HELP, 1)

    assert (
        "`migration:delivery_address_history`" in refused["text"] and "data-platform" not in refused["text"]
    )


async def test_an_answer_about_everything_covers_only_what_may_be_read(bot: BotHarness) -> None:
    await bot.event(message("is anything past its freshness SLA?", user=ANNA), event_id="EvAll")
    (stale,) = await answered(bot, HELP, 1)
    await bot.event(message("is anything broken?", user=ANNA), event_id="EvOverall")
    overall = (await answered(bot, HELP, 2))[1]

    # delivery_address is the demo's stale entity: not Anna's to read, so not named, but counted.
    said, summary = str(stale["blocks"]), str(overall["blocks"])
    assert "delivery_address" not in said and "3 subjects you may not read left out" in said
    assert "delivery_address" not in summary and "you may not read left out" in summary
    assert "All clear" not in summary


async def test_someone_no_rule_lets_ask_gets_no_reply(bot: BotHarness) -> None:
    await bot.event(message("is payment fresh?", user="U0BOB00001"), event_id="EvBob")
    await asyncio.sleep(1.0)

    assert not bot.slack.calls_to("chat.postMessage")


async def test_the_home_tab_shows_only_what_may_be_read(bot: BotHarness) -> None:
    opened = {"type": "app_home_opened", "user": ANNA, "channel": "D0ANNA0001", "tab": "home"}
    await bot.event(opened, event_id="EvHomeAnna")
    await bot.slack.wait_for("views.publish")
    text = str(bot.slack.workspace.home_tabs[ANNA]["blocks"])

    assert "payment" in text
    for other in ("delivery_address", "amd_purchase", "amd_user"):
        assert other not in text, other
    assert "you may not read left out" in text
