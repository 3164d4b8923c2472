"""Live cards through Slack's refusals (issue #8): two migration cards in two channels, the scheduler's
card tick run by hand, and FakeSlack answering errors, 429s and "gone" for one card while the other
is fine. What Slack shows is read back from FakeSlack."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy.exc import SQLAlchemyError

import commands
from bot.core import cards
from bot.foundation.migration_specs import MigrationSpec, SourceSpec
from bot.foundation.ports import CardRef
from bot.foundation.settings import Settings
from bot.migration.client import ChunkReport
from bot.migration.ledger import Ledger
from bot.render.message import Message
from bot.scheduler import live_kinds
from bot.state.store import unreachable
from bot.surfaces.slack import SlackSurface, web_client, without_rate_limit_waits
from commands import migration
from tests.support.bot import BotHarness, running_bot
from tests.support.private_postgres import PrivatePostgres, private_postgres

ALPHA, BETA = "alpha_history", "beta_history"


def spec(name: str) -> MigrationSpec:
    return MigrationSpec(
        name=name,
        target=f"amd.{name}",
        sources=[SourceSpec(name="mongo", kind="mongodb", expected_rows=1_000)],
    )


@pytest.fixture
async def bot(bot_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[BotHarness]:
    # Every tick may show new numbers: these stories are about Slack's answers, not the budget.
    monkeypatch.setattr(migration, "UPDATE_EVERY_S", 0.0)
    settings = bot_settings.model_copy(
        update={"migrations": [spec(ALPHA), spec(BETA)], "card_min_interval_s": 0.0}
    )
    async with running_bot(settings) as harness:
        yield harness


def text_of(message: dict[str, Any]) -> str:
    return json.dumps(message.get("blocks", []), ensure_ascii=False) + str(message.get("text", ""))


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.05)


async def show(bot: BotHarness, name: str, channel: str) -> str:
    """`/amd migration <name>` in `channel`; the ts of the card it posts, once the bot follows it: the
    card is stored just after Slack took it, and a tick in between finds nothing to update."""
    await bot.slash(f"/amd migration {name}", channel=channel)
    await until(lambda: any(name in text_of(m) for m in bot.slack.messages(channel)))
    ts = next(m["ts"] for m in bot.slack.messages(channel) if name in text_of(m))
    async with asyncio.timeout(30):
        while not any(c.ref.ts == ts for c in await cards.unsettled(bot.backends)):
            await asyncio.sleep(0.05)
    return ts


async def copied(bot: BotHarness, name: str, rows: int) -> None:
    ledger = Ledger.on(bot.backends.state, bot.backends.settings.migrations)
    report = ChunkReport(source="mongo", chunk=f"ids:{rows}", rows=rows)
    await ledger.report(name, report, at=datetime.now(UTC))


async def tick(bot: BotHarness) -> int:
    """One run of the scheduler's live-card job, on the surface the scheduler uses."""
    surface = SlackSurface(without_rate_limit_waits(web_client(bot.backends.settings)))
    return await cards.tick(bot.backends, surface, live_kinds(commands.COMMANDS))


def shown(bot: BotHarness, channel: str, ts: str) -> str:
    return text_of(bot.slack.message(channel, ts))


async def test_an_update_slack_refused_is_sent_again_on_a_later_tick(bot: BotHarness) -> None:
    card = await show(bot, ALPHA, "CA")
    await copied(bot, ALPHA, 300)
    bot.slack.fail_next("chat.update", status=200, error="fatal_error", channel="CA")

    await tick(bot)
    assert "300 / 1,000" not in shown(bot, "CA", card)

    # A later tick sends it: the next one, unless the bot's own scheduler holds the card's lease then
    # (a loaded machine), so a few ticks are allowed.
    for _ in range(5):
        await tick(bot)
        if "300 / 1,000" in shown(bot, "CA", card):
            break
        await asyncio.sleep(0.5)
    assert "300 / 1,000" in shown(bot, "CA", card)


async def test_one_cards_error_does_not_stop_the_others(bot: BotHarness) -> None:
    alpha = await show(bot, ALPHA, "CA")
    beta = await show(bot, BETA, "CB")
    await copied(bot, ALPHA, 300)
    await copied(bot, BETA, 400)
    bot.slack.fail_next("chat.update", status=200, error="fatal_error", channel="CA")

    await tick(bot)

    assert "400 / 1,000" in shown(bot, "CB", beta)
    assert "300 / 1,000" not in shown(bot, "CA", alpha)


async def test_a_card_whose_message_is_gone_for_good_is_retired(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    alpha = await show(bot, ALPHA, "CA")
    await show(bot, BETA, "CB")
    bot.slack.delete_message("CA", alpha)
    bot.slack.archive("CB")
    await copied(bot, ALPHA, 300)
    await copied(bot, BETA, 400)

    with caplog.at_level(logging.WARNING, logger="bot.core.cards"):
        await tick(bot)

    assert await cards.unsettled(bot.backends) == []
    retired = [r.getMessage() for r in caplog.records if "retired" in r.getMessage()]
    assert any("message_not_found" in line for line in retired)
    assert any("is_archived" in line for line in retired)
    calls = len(bot.slack.calls_to("chat.update"))
    await copied(bot, ALPHA, 500)
    await tick(bot)
    assert len(bot.slack.calls_to("chat.update")) == calls  # nothing more is tried for them


async def test_a_429_delays_one_card_without_holding_up_the_round(bot: BotHarness) -> None:
    alpha = await show(bot, ALPHA, "CA")
    beta = await show(bot, BETA, "CB")
    await copied(bot, ALPHA, 300)
    await copied(bot, BETA, 400)
    bot.slack.fail_next("chat.update", status=429, retry_after=2, channel="CA")

    started = time.monotonic()
    await tick(bot)
    assert time.monotonic() - started < 1.5  # no sleeping out Retry-After inside the round
    assert "400 / 1,000" in shown(bot, "CB", beta)

    await copied(bot, ALPHA, 600)
    await tick(bot)  # within Retry-After: Slack is not asked again
    assert [c.status for c in bot.slack.calls_to("chat.update") if c.args["channel"] == "CA"] == [429]

    await asyncio.sleep(2.2)
    await tick(bot)  # after it: the newest state, never the delayed one
    assert "900 / 1,000" in shown(bot, "CA", alpha)
    assert [c.status for c in bot.slack.calls_to("chat.update") if c.args["channel"] == "CA"] == [429, 200]


class StoreGoesAwayAfterTheEdit(SlackSurface):
    """Slack takes the card's edit, and the database stops before the bot can record it: the lease
    the tick took is still on the card when the database is back."""

    def __init__(self, bot: BotHarness, database: PrivatePostgres) -> None:
        super().__init__(without_rate_limit_waits(web_client(bot.backends.settings)))
        self.database = database

    async def update(self, ref: CardRef, message: Message) -> None:
        await super().update(ref, message)
        await self.database.stop()


async def test_a_card_whose_store_went_away_mid_update_moves_on_once_it_is_back(
    bot_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(migration, "UPDATE_EVERY_S", 0.0)
    async with private_postgres() as database:
        settings = bot_settings.model_copy(
            update={
                "migrations": [spec(ALPHA)],
                "card_min_interval_s": 0.0,
                "state_url": SecretStr(database.url),
            }
        )
        async with running_bot(settings) as bot:
            card = await show(bot, ALPHA, "CA")
            await copied(bot, ALPHA, 300)
            going = StoreGoesAwayAfterTheEdit(bot, database)
            with pytest.raises((OSError, SQLAlchemyError)) as raised:
                await cards.tick(bot.backends, going, live_kinds(commands.COMMANDS))
            assert unreachable(raised.value)
            assert "300 / 1,000" in shown(bot, "CA", card)  # Slack has it; the store never heard

            await database.start()
            await copied(bot, ALPHA, 700)
            # The lease (two minutes) is given back by the replica that holds it, not waited out.
            async with asyncio.timeout(30):
                while "1,000 / 1,000" not in shown(bot, "CA", card):
                    await tick(bot)
                    await asyncio.sleep(0.2)
