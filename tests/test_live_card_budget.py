"""Live cards within Slack's update budget (issue #8, point 6): one card per migration, no update for
the clock alone, a card's own minimum interval between updates, and a running test card that changes
at most every 10 s. chat.update is Tier 3 (~50/min per workspace), shared by every card."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.core import cards
from bot.foundation.dbt_port import DbtProgress
from bot.foundation.settings import Settings
from bot.migration.ledger import Ledger
from bot.migration.progress import SourceTotals, Window, progress
from bot.surfaces.slack import SlackSurface
from commands import migration, test
from commands.migration import views
from commands.test import views as test_views
from tests.slack_fake.web_api import FakeSlack
from tests.support.bot import BotHarness, running_bot
from tests.test_live_cards import ALPHA, BETA, copied, show, shown, spec, tick, until

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


@pytest.fixture
async def bot(bot_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[BotHarness]:
    monkeypatch.setattr(migration, "UPDATE_EVERY_S", 0.0)  # the card's own budget is what is shown
    settings = bot_settings.model_copy(
        update={"migrations": [spec(ALPHA), spec(BETA)], "card_min_interval_s": 2.0}
    )
    async with running_bot(settings) as harness:
        yield harness


def at(now: datetime, *, last: datetime) -> Any:
    totals = SourceTotals("mongo", "mongodb", 1_000, rows=400, chunks_ok=4, first_at=T0, last_at=last)
    return progress(
        ALPHA,
        "amd.alpha_history",
        (totals,),
        Window(0, 0),
        intent="run",
        now=now,
        window_length=timedelta(minutes=5),
        stall_after=timedelta(minutes=15),
    )


@pytest.mark.parametrize("last_report", [T0, T0 - timedelta(minutes=20)], ids=["running", "stalled"])
def test_the_clock_alone_does_not_change_a_migration_card(last_report: datetime) -> None:
    before = views.card(at(T0, last=last_report), spec(ALPHA), [], {})
    later = views.card(at(T0 + timedelta(minutes=3), last=last_report), spec(ALPHA), [], {})
    assert cards.fingerprint(later) == cards.fingerprint(before)


async def test_a_new_card_for_a_migration_replaces_the_older_one(bot: BotHarness) -> None:
    first = await show(bot, ALPHA, "CA")
    second = await show(bot, ALPHA, "CB")

    await until(lambda: "No longer updated" in shown(bot, "CA", first))
    (live,) = await cards.unsettled(bot.backends)
    assert (live.ref.channel, live.ref.ts) == ("CB", second)

    await copied(bot, ALPHA, 300)
    await tick(bot)
    assert "300 / 1,000" in shown(bot, "CB", second)
    assert [c.args["channel"] for c in bot.slack.calls_to("chat.update", ok=True)] == ["CA", "CB"]


async def test_a_card_is_updated_no_more_often_than_its_budget(bot: BotHarness) -> None:
    card = await show(bot, ALPHA, "CA")
    ledger = Ledger.on(bot.backends.state, bot.backends.settings.migrations)
    for rows in (100, 200, 300):  # something new every tick, faster than the card may change
        await copied(bot, ALPHA, rows)
        await tick(bot)
    assert len(bot.slack.calls_to("chat.update")) == 1
    assert "100 / 1,000" in shown(bot, "CA", card)

    await asyncio.sleep(2.2)
    await ledger.set_intent(ALPHA, "pause", by="U1", at=datetime.now(UTC))
    await tick(bot)  # once due again: the newest state, not the ones in between
    assert len(bot.slack.calls_to("chat.update")) == 2
    assert "600 / 1,000" in shown(bot, "CA", card)
    assert "paused" in shown(bot, "CA", card)


async def test_a_running_test_card_changes_at_most_every_10_s() -> None:
    request = test_views.TestRequest("test-budget", "test", None, "U1")
    async with FakeSlack() as slack:
        surface = SlackSurface(AsyncWebClient(token="xoxb-test-budget", base_url=slack.api_url), channel="C1")
        ref = await surface.post(test_views.progress_card(request, None))
        card = test.ProgressCard(surface, ref, request)
        follower = asyncio.create_task(card.follow())
        started = time.monotonic()
        done = 0
        while time.monotonic() - started < 11:  # dbt reports a node every 0.2 s
            done += 1
            await card.progress(DbtProgress(done, 1_000, f"test_{done}"))
            await asyncio.sleep(0.2)
        follower.cancel()

    updates = slack.calls_to("chat.update")
    assert 1 <= len(updates) <= 2
    assert all(b.at - a.at >= 9 for a, b in itertools.pairwise(updates))
