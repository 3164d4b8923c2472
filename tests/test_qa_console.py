"""The console speaks to the help-channel answers: a line without `/` is a message in a help channel,
`@amd …` mentions the bot, `/amd home` prints what the App Home tab shows, `/amd ask` asks."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.foundation.settings import Settings
from tests.support.bot import BotHarness, running_bot

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
async def bot(demo_settings: Settings) -> AsyncIterator[BotHarness]:
    async with running_bot(demo_settings) as harness:
        yield harness


async def test_a_line_without_a_slash_is_a_question_in_a_help_channel(bot: BotHarness) -> None:
    out = await bot.console("payment fresh?", "and who owns it?", "lunch anyone?", "@amd lunch anyone?")
    help_asked = await bot.console("@amd help")

    assert "`payment` is fresh" in out and "from the warehouse" in out and "/amd stats payment" in out
    assert "payment` is owned by payments-team" in out  # the follow-up kept the subject
    assert "(no reply: in a help channel" in out  # chatter: quiet
    assert "(no reply: a thank-you, a greeting, a remark or a question about nothing" in out  # even mentioned
    assert "I answer about open incidents" in help_asked and "cannot answer" not in help_asked


async def test_thanked_the_bot_stays_quiet_and_greeted_it_says_what_it_answers(bot: BotHarness) -> None:
    """A thank-you needs no reply, even a mention's: "I cannot answer that" would answer it. Nor does a
    greeting alone or a remark in a channel, said to the room as much as to the bot; a question is."""
    thanked = await bot.console(
        "@amd cheers, much appreciated :pray:",
        "@amd you're a star",
        "morning @amd!",
        "obrigada @amd!",
        "@amd you're the real MVP",
        "hi @amd, nice to meet you",
        "sorry @amd, wrong channel",  # a remark to the bot asks it nothing
    )
    # the bot spoken of, not to: no question put to it, as any talk in a help channel
    spoken_of = await bot.console(
        "deploying the new image now, @amd and #alerts may be noisy for a bit", "does @amd get a day off too?"
    )
    greeted = await bot.console("@amd hey there, first time using you: what can you do?")

    assert thanked.count("(no reply: a thank-you, a greeting, a remark or a question about nothing") == 7
    assert spoken_of.count("(no reply: in a help channel the bot answers questions it can") == 2
    assert "I cannot answer" not in thanked and "Hello!" not in thanked
    assert "Hello! I answer about open incidents, freshness" in greeted and "I cannot answer" not in greeted


async def test_asked_directly_how_things_are_the_bot_gives_the_overall_status(bot: BotHarness) -> None:
    """In a help channel "give me a quick recap" is anyone's talk; put to the bot, it asks how the data is."""
    said = await bot.console("give me a quick recap")
    asked = await bot.console("@amd give me a quick recap", "@amd what's the weather like?")

    assert "(no reply: in a help channel" in said
    assert re.search(r"\d+ kinds? of trouble", asked) or "All clear" in asked or "not all clear" in asked
    assert "(no reply: a thank-you, a greeting, a remark or a question about nothing" in asked  # the weather


async def test_a_question_with_a_request_beside_it_is_answered_and_the_request_turned_down(
    bot: BotHarness,
) -> None:
    out = await bot.console("who owns payment, and can you just delete the negative rows for me?")
    whole = await bot.console("can you delete the negative rows of payment?")

    assert "payment` is owned by payments-team" in out
    assert "⊘ The rest I have not done: that is a change to data, which I do not do." in out
    assert "(no reply: in a help channel" in whole  # a request alone: nothing to answer in a help channel


async def test_a_migrations_owner_is_the_one_its_settings_name_not_its_tables(bot: BotHarness) -> None:
    out = await bot.console(
        "who is responsible for the address history migration?", "who owns delivery_address?"
    )

    assert "The migration Delivery address history is owned by data-platform." in out  # bold in Slack
    assert "copies into `amd.delivery_address_history`" in out
    assert "`delivery_address` is owned by" in out  # the table's own owner, asked about the table
    both = await bot.console("is the migration on track, and who is the owner of it?")
    assert "has not started" in both and "is owned by data-platform" in both  # the one migration there is


async def test_a_clarifying_reply_has_buttons_the_console_presses(bot: BotHarness) -> None:
    out = await bot.console("@amd what does currency mean?", "2")

    assert "Several entities have `currency`; which one?" in out
    assert "[1] payment.currency" in out and "[2] purchase.currency" in out
    assert "`purchase.currency`: ISO 4217 currency code of the amount." in out


async def test_unknown_entities_are_named_not_guessed(bot: BotHarness) -> None:
    out = await bot.console("is shipment fresh?")

    assert "No entity `shipment`." in out
    assert "fresh:" not in out  # no freshness of anything else


async def test_amd_home_prints_the_home_tab_and_amd_ask_answers(bot: BotHarness) -> None:
    out = await bot.console("/amd home", "/amd ask what's the owner of purchase?")

    for part in ("amd-bot · data status", "AMD entities", "Latest runs", "Failing dbt tests"):
        assert part in out, part
    assert "History migrations" in out and "delivery_address_history" in out
    assert "`purchase` is owned by jonas.w" in out  # "what's": prose, no unbalanced quote


def test_amd_bot_console_c_prints_the_answer(demo_settings: Settings) -> None:
    env = {"AMD_HOME": str(demo_settings.home), "NO_COLOR": "1", "PATH": "/usr/bin:/bin"}
    command = [sys.executable, "-c", "from bot.cli import main; main()", "console", "-c", "payment fresh?"]
    done = subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False
    )

    assert done.returncode == 0, done.stderr[-2000:]
    assert "`payment` is fresh" in done.stdout.splitlines()[0]  # the answer only: no greeting, no log
    assert "as of " in done.stdout and "from the warehouse" in done.stdout
