"""Help-channel answers and the App Home tab end to end: signed Events API requests through the real
HTTP endpoint, the real Bolt app on the demo world, and FakeSlack recording what reached "Slack"."""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.core.command import Ctx
from bot.foundation.settings import Settings
from bot.render.console import to_text
from bot.state.answers import AnswerState
from bot.surfaces.console import ConsoleSurface
from commands.ask.about import thanked
from commands.ask.engine import read, reply
from tests.slack_fake.identity import BOT_ID, BOT_USER_ID
from tests.support.bot import BotHarness, claimed_long_ago, help_settings, running_bot
from tests.test_qa_understanding import labelled

HELP = "C0HELP0001"
_ts = itertools.count(1)


def message(text: str, *, channel: str = HELP, user: str = "U0ANNA0001", **extra: Any) -> dict[str, Any]:
    kind = "im" if channel.startswith("D") else "channel"
    ts = f"1700000000.{next(_ts):06d}"
    return {
        "type": "message",
        "channel": channel,
        "channel_type": kind,
        "user": user,
        "text": text,
        "ts": ts,
    } | extra


def posts(bot: BotHarness, channel: str) -> list[dict[str, Any]]:
    return [c.args for c in bot.slack.calls_to("chat.postMessage") if c.args.get("channel") == channel]


async def answered(bot: BotHarness, channel: str, count: int) -> list[dict[str, Any]]:
    await bot.slack._wait(lambda: len(posts(bot, channel)) >= count, 30, lambda: f"{posts(bot, channel)}")
    return posts(bot, channel)


@pytest.fixture
async def bot(demo_settings: Settings, tmp_path: Path) -> AsyncIterator[BotHarness]:
    # one window for the whole test: the limit, not the clock, decides
    settings = help_settings(demo_settings, tmp_path, HELP, help_user_limit=3, help_rate_window_s=1e9)
    async with running_bot(settings) as harness:
        yield harness


async def test_a_question_in_a_help_channel_is_answered_in_its_thread_once(bot: BotHarness) -> None:
    question = message("is payment fresh?")

    assert await bot.event(question, event_id="Ev1") == 200
    (reply,) = await answered(bot, HELP, 1)
    await asyncio.sleep(0.5)
    assert await bot.event(question, event_id="Ev1", retry=1) == 200  # Slack's retry: same event_id
    await asyncio.sleep(0.5)

    assert reply["thread_ts"] == question["ts"]
    assert "`payment`" in reply["text"] and "fresh" in reply["text"]
    assert "as of" in str(reply["blocks"]) and "from the warehouse" in str(reply["blocks"])
    assert "/amd stats payment" in str(reply["blocks"])
    assert len(posts(bot, HELP)) == 1
    [audit] = await bot.backends.state.recent_audit(command="ask")
    assert (audit.outcome, audit.detail["intent"], audit.detail["entity"]) == (
        "answered",
        "freshness",
        "payment",
    )


async def test_a_retry_is_answered_when_the_replica_answering_it_died(bot: BotHarness) -> None:
    question = message("who owns payment?")
    answers = AnswerState(bot.backends.state.engine)
    # A replica took the event and died before answering: its lease is an hour old.
    await claimed_long_ago(bot.backends.state, "event:EvDied")
    # One still answering (its lease is fresh): Slack is asked to retry later, nothing is answered twice.
    assert await answers.take_event("EvBusy", lease_s=60) == "mine"
    assert await bot.event(question, event_id="EvBusy", retry=1) == 503

    assert await bot.event(question, event_id="EvDied", retry=1) == 200
    (reply,) = await answered(bot, HELP, 1)
    await asyncio.sleep(0.5)

    assert "payments-team" in reply["text"] and len(posts(bot, HELP)) == 1
    assert await answers.take_event("EvDied", lease_s=60) == "done"


async def test_a_long_message_is_understood_from_its_first_2000_characters(bot: BotHarness) -> None:
    pasted = "is payment fresh? " + "x" * 5_000 + " who owns purchase?"
    await bot.event(message(pasted), event_id="EvLong")
    (reply,) = await answered(bot, HELP, 1)

    assert "`payment`" in reply["text"] and "jonas.w" not in reply["text"]  # the rest was never read


async def test_chatter_thanks_bots_edits_and_its_own_messages_get_no_answer(bot: BotHarness) -> None:
    quiet = [
        message("lunch anyone?"),
        message("is payment fresh?", user=BOT_USER_ID),
        message("is payment fresh?", bot_id="B0OTHER001", subtype="bot_message"),
        message("is payment fresh?", bot_id=BOT_ID),
        message("", subtype="message_changed", message={"text": "is purchase fresh?"}),
        message("", subtype="channel_join"),
        message("is payment fresh?", channel="C0ELSEWHERE"),  # not a help channel, not mentioned
        message(f"thanks <@{BOT_USER_ID}>! :pray:", channel="C0SQUAD001") | {"type": "app_mention"},
        message(f"good night <@{BOT_USER_ID}>, see you tomorrow", channel="C0SQUAD001")
        | {"type": "app_mention"},
        # a remark to the bot, and the bot spoken of: nothing put to it
        message(f"<@{BOT_USER_ID}> sorry, wrong channel", channel="C0SQUAD001") | {"type": "app_mention"},
        message(f"can we invite <@{BOT_USER_ID}> to the retro?", channel="C0SQUAD001")
        | {"type": "app_mention"},
        # a question put to it about nothing it knows: the room's talk (issue 19)
        message(f"<@{BOT_USER_ID}> who won the football last night?", channel="C0SQUAD001")
        | {"type": "app_mention"},
        message(f"<@{BOT_USER_ID}> can you order pizza for the team?", channel="C0SQUAD001")
        | {"type": "app_mention"},
    ]
    for n, event in enumerate(quiet):
        await bot.event(event, event_id=f"EvQuiet{n}")
    await bot.event(message("who owns purchase?"), event_id="EvAsked")

    (reply,) = await answered(bot, HELP, 1)
    await asyncio.sleep(0.5)

    assert "jonas.w" in reply["text"]
    assert len(bot.slack.calls_to("chat.postMessage")) == 1


async def test_a_mention_anywhere_and_its_thread_follow_up(bot: BotHarness) -> None:
    channel = "C0SQUAD001"
    mention = message(f"<@{BOT_USER_ID}> who owns payment?", channel=channel) | {"type": "app_mention"}
    await bot.event(mention, event_id="EvMention")
    (first,) = await answered(bot, channel, 1)
    assert first["thread_ts"] == mention["ts"] and "payments-team" in first["text"]

    follow = message("and purchase?", channel=channel, thread_ts=mention["ts"])
    await bot.event(follow, event_id="EvFollow")
    second = (await answered(bot, channel, 2))[1]

    assert second["thread_ts"] == mention["ts"]
    assert "jonas.w" in second["text"]  # the owner intent kept, about purchase now


async def test_a_question_about_nothing_the_bot_knows_is_answered_only_in_a_dm(bot: BotHarness) -> None:
    """In a channel "@amd what's the weather in Lisbon?" is the room's talk: it names nothing the bot knows
    and has no data-status cue (issue 19). What the bot does, or a request it turns down, is answered there;
    in a DM, the bot alone spoken to, so is everything."""
    weather = f"<@{BOT_USER_ID}> what's the weather like in Lisbon?"
    await bot.event(message(weather, channel="C0SQUAD001") | {"type": "app_mention"}, event_id="EvWeather")
    await bot.event(message(weather, channel="D0ANNA0001"), event_id="EvWeatherDm")
    (in_dm,) = await answered(bot, "D0ANNA0001", 1)
    asked = [
        f"<@{BOT_USER_ID}> what can you do?",
        f"<@{BOT_USER_ID}> can you delete the negative payment rows?",
    ]
    for n, text in enumerate(asked):
        await bot.event(message(text, channel="C0SQUAD001") | {"type": "app_mention"}, event_id=f"EvAsked{n}")
    about_itself, turned_down = await answered(bot, "C0SQUAD001", 2)
    await asyncio.sleep(0.5)

    assert "I cannot answer that from the facts I have" in in_dm["text"]
    assert about_itself["text"].startswith("I answer about open incidents, freshness")
    assert "I cannot answer that from the facts I have: that is" in turned_down["text"]
    assert len(posts(bot, "C0SQUAD001")) == 2  # the weather, in the channel: no reply


async def test_reply_to_chatter_answers_the_rooms_talk_too(demo_settings: Settings, tmp_path: Path) -> None:
    """AMD_HELP_REPLY_TO_CHATTER: chatter in a help channel and a mention about nothing the bot knows get
    "I cannot answer that …" with what it answers; a thank-you still gets nothing."""
    settings = help_settings(demo_settings, tmp_path, HELP, help_reply_to_chatter=True)
    async with running_bot(settings) as bot:
        await bot.event(message(f"thanks <@{BOT_USER_ID}>!") | {"type": "app_mention"}, event_id="EvThanks")
        await bot.event(message("lunch anyone?"), event_id="EvLunch")
        weather = message(f"<@{BOT_USER_ID}> what's the weather in Lisbon?", channel="C0SQUAD001")
        await bot.event(weather | {"type": "app_mention"}, event_id="EvWeather")
        (lunch,) = await answered(bot, HELP, 1)
        (spoken_to,) = await answered(bot, "C0SQUAD001", 1)
        await asyncio.sleep(0.5)

        assert "I cannot answer that from the facts I have" in lunch["text"]
        assert "I cannot answer that from the facts I have" in spoken_to["text"]
        assert len(posts(bot, HELP)) == 1  # the thank-you: no reply


async def test_a_mention_whose_id_is_not_the_bots_own_is_taken_as_spoken_to(bot: BotHarness) -> None:
    """Slack sends app_mention only when the bot is mentioned: an id the bot does not know as its own
    (an org-wide install's) is still the bot spoken to."""
    other = message("<@U0ORGBOT01> what can you do?", channel="C0SQUAD001")
    await bot.event(other | {"type": "app_mention"}, event_id="EvOrgWide")
    (reply,) = await answered(bot, "C0SQUAD001", 1)

    assert reply["text"].startswith("I answer about open incidents, freshness")


async def test_a_dm_is_answered_and_a_decline_carries_no_fact(bot: BotHarness) -> None:
    await bot.event(message("what was the revenue last month?", channel="D0ANNA0001"), event_id="EvDm")
    (reply,) = await answered(bot, "D0ANNA0001", 1)

    assert "cannot answer" in reply["text"]
    assert "as of" not in str(reply["blocks"])
    assert not any(ch.isdigit() for ch in reply["text"])


async def test_a_greeting_in_a_dm_is_answered_with_what_the_bot_answers(bot: BotHarness) -> None:
    """Said in a channel, "good morning @amd" is said to the room too (no reply); a DM is to the bot alone."""
    await bot.event(message("good morning!", channel="D0ANNA0001"), event_id="EvHello")
    (reply,) = await answered(bot, "D0ANNA0001", 1)

    assert reply["text"].startswith("Hello! I answer about") and "cannot answer" not in reply["text"]


async def test_a_flood_gets_the_limit_and_one_polite_notice(bot: BotHarness) -> None:
    # The limit counts in fixed windows of the store's clock: a flood across a window's end is two floods.
    window_s = bot.backends.settings.help_rate_window_s
    left = window_s - time.time() % window_s
    if left < 15:
        await asyncio.sleep(left)
    for n in range(6):
        await bot.event(message(f"is payment fresh? ({n})", user="U0FLOOD001"), event_id=f"EvFlood{n}")

    replies = await answered(bot, HELP, 4)
    await asyncio.sleep(1.0)

    notices = [r for r in posts(bot, HELP) if "limit" in r["text"]]
    assert len(notices) == 1
    assert len(posts(bot, HELP)) == 4  # three answers (the limit), one notice, then silence
    assert all("fresh" in r["text"] for r in replies if r not in notices)


async def test_the_app_home_is_published_and_not_rebuilt_within_a_minute(bot: BotHarness) -> None:
    opened = {"type": "app_home_opened", "user": "U0ANNA0001", "channel": "D0ANNA0001", "tab": "home"}
    await bot.event(opened, event_id="EvHome1")
    (publish,) = await bot.slack.wait_for("views.publish")
    await bot.event(opened, event_id="EvHome2")  # opened again at once
    await bot.event(opened | {"tab": "messages"}, event_id="EvHome3")
    await asyncio.sleep(0.5)

    assert len(bot.slack.calls_to("views.publish")) == 1
    home = bot.slack.workspace.home_tabs["U0ANNA0001"]
    text = str(home["blocks"])
    for part in ("AMD entities", "Latest runs", "Failing dbt tests", "delivery_address_history", "Built"):
        assert part in text, part
    assert publish.args["user_id"] == "U0ANNA0001"


async def test_the_app_home_is_rebuilt_once_its_interval_has_passed(
    demo_settings: Settings, tmp_path: Path
) -> None:
    settings = demo_settings.model_copy(
        update={
            "state_url": SecretStr(f"sqlite+aiosqlite:///{tmp_path / 'state.db'}"),
            "home_min_interval_s": 1.0,
        }
    )
    opened = {"type": "app_home_opened", "user": "U0BO000001", "channel": "D0BO000001", "tab": "home"}
    async with running_bot(settings) as bot:
        await bot.event(opened, event_id="EvAgain1")
        await bot.slack.wait_for("views.publish")
        await bot.event(opened, event_id="EvAgain2")  # within the interval: still current
        await asyncio.sleep(1.5)
        await bot.event(opened, event_id="EvAgain3")  # past it: built again
        published = bot.slack.calls_to
        await bot.slack._wait(lambda: len(published("views.publish")) >= 2, 30, lambda: "2 publishes")
        await asyncio.sleep(0.5)

        assert len(bot.slack.calls_to("views.publish")) == 2


async def test_no_question_to_decline_is_answered_with_a_fact(bot: BotHarness) -> None:
    out: list[str] = []
    ctx = Ctx(user="U1", channel=HELP, backends=bot.backends, surface=ConsoleSurface(out.append))
    declines = [c for c in labelled() if c["intent"] == "decline" and c.get("project", "demo") == "demo"]
    for case in declines:
        question, _ = read(case["q"], ctx, bot_user=BOT_USER_ID)
        said = (await reply(question, ctx, direct=True, prefix="/amd")).message
        if said is None:  # nothing said at all: only to a thank-you ("thanks!")
            assert thanked(question.text), case["q"]
            continue
        text = to_text(said)
        assert "as of" not in text, (case["q"], text)  # no answer: nothing fetched, nothing to date
        facts = re.sub(r"\[\d+\]", "", text.replace("/amd", ""))  # the console numbers the buttons
        assert not re.search(r"\d", facts), (case["q"], text)  # and no number made up


async def test_amd_ask_as_a_slash_command_and_its_clarifying_buttons(bot: BotHarness) -> None:
    reply = await bot.slash("/amd ask what's currency?", user="U0ANNA0001", channel=HELP)
    assert reply.status == 200 and "Looking it up" in reply.body
    (asked,) = await bot.answers(reply)
    assert "Several entities have `currency`" in str(asked["blocks"])

    [buttons] = [b for b in asked["blocks"] if b["type"] == "actions"]
    [purchase] = [e for e in buttons["elements"] if e["text"]["text"] == "purchase.currency"]
    assert "what's" not in purchase["value"] and '"k"' in purchase["value"]  # a key, not the question
    click = await bot.click(purchase, user="U0ANNA0001", channel=HELP, message_ts="1700000001.000001")
    (picked,) = await bot.answers(click)

    assert "`purchase.currency`: ISO 4217 currency code of the amount." in str(picked["blocks"])
    assert picked.get("replace_original") is True  # the answer takes the question's place
