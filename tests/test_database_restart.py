"""The state store's PostgreSQL stops and starts again under three running replicas (issue 14, faults):
while it is away every replica says it is not ready, a command gets a clear "try again", an event is
refused so that Slack redelivers it, a copy job's report is refused with Retry-After; once it is back
the same processes (no restart) are ready again, and what was refused is done once.

The database is a private cluster of this test's (tests/support/private_postgres.py): the shared server
on 5432 keeps serving everyone else.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bot.core.router import STORE_AWAY
from bot.foundation.settings import Settings
from bot.state.store import SqlState, unreachable
from tests.support.mix import (
    MIGRATION,
    MIGRATION_CHANNEL,
    mention,
    migration_settings,
    redeliver,
    report_chunk,
    text_of,
    until,
)
from tests.support.private_postgres import PrivatePostgres, private_postgres
from tests.support.proxy import RoundRobin
from tests.support.replicas import BotProcess, SlackSide, free_port, replicas

pytestmark = [pytest.mark.replicas, pytest.mark.slow]


@pytest.fixture
async def database() -> AsyncIterator[PrivatePostgres]:
    async with private_postgres() as pg:
        yield pg


async def all_ready(bots: list[BotProcess], ready: bool) -> bool:
    return all([await bot.ready() == ready for bot in bots])


async def healthy(bot: BotProcess) -> bool:
    async with aiohttp.ClientSession() as http, http.get(f"{bot.url}/healthz") as resp:
        return resp.status == 200


async def test_the_database_restarts_under_three_replicas_and_they_recover_by_themselves(
    demo_settings: Settings, database: PrivatePostgres, tmp_path: Path
) -> None:
    async with replicas(demo_settings, database.url, tmp_path, **migration_settings()) as (group, slack):
        bots = list(await asyncio.gather(*(group.start(name) for name in ("a", "b", "c"))))
        pids = [bot.proc.pid for bot in bots if bot.proc is not None]
        async with RoundRobin([b.url for b in bots]) as lb:
            front = SlackSide(slack, lb.url)
            try:
                await front.slash(f"/amd migration {MIGRATION}", channel=MIGRATION_CHANNEL)
                card = await until(lambda: _card(front), "the migration card")
                assert await report_chunk(front, "c1", 100) == 200

                await database.stop()
                await until(lambda: all_ready(bots, False), "every replica unready")
                assert all([await healthy(bot) for bot in bots])  # alive: nobody should restart them

                # A command: acked, then a clear answer to try again, from whichever replica took it.
                asked = await front.slash(f"/amd migration {MIGRATION}", channel="CASK")
                assert asked.status == 200
                (answer,) = await front.answers(asked, timeout=60)
                assert STORE_AWAY in text_of(answer)
                assert "reference" not in text_of(answer) and "Traceback" not in text_of(answer)
                # An event: not acked (Slack redelivers it later), never silently dropped.
                assert await mention(front, "EvAway", channel="CEV") == 503
                # A copy job's report: refused with Retry-After, stored when it is sent again.
                assert await report_chunk(front, "c2", 100) == 503

                await database.start()
                await until(lambda: all_ready(bots, True), "every replica ready again")
                assert [bot.proc.pid for bot in bots if bot.proc is not None] == pids  # no restart

                for _ in range(2):  # Slack's redeliveries, on two replicas: answered once
                    assert (await redeliver(front, "EvAway", channel="CEV"))[-1] == 200
                assert await report_chunk(front, "c2", 100) == 200
                await until(
                    lambda: _shows(front, card["ts"], "200 / 1,000"), "the live card updated after the outage"
                )
                again = await front.slash(f"/amd migration {MIGRATION}", channel="CASK")
                await until(lambda: _posted(front, "CASK"), "the command answered after the outage")
                assert again.status == 200
                await asyncio.sleep(2)  # a second answer to the event, if there were one, would be here
                answered = [c for c in slack.calls_to("chat.postMessage") if c.args.get("channel") == "CEV"]
                assert len(answered) == 1
            finally:
                await front.close()


async def _card(front: SlackSide) -> dict[str, object] | None:
    cards = [m for m in front.slack.messages(MIGRATION_CHANNEL) if MIGRATION in json.dumps(m)]
    return cards[0] if cards else None


async def _shows(front: SlackSide, ts: str, text: str) -> bool:
    return text in text_of(front.slack.message(MIGRATION_CHANNEL, ts))


async def _posted(front: SlackSide, channel: str) -> bool:
    return any(MIGRATION in text_of(m) for m in front.slack.messages(channel))


async def test_a_database_that_is_away_is_told_from_a_statement_that_is_wrong(tmp_path: Path) -> None:
    nowhere = SqlState(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/postgres")
    wrong = SqlState(f"sqlite+aiosqlite:///{tmp_path / 'state.db'}")
    try:
        with pytest.raises(ConnectionRefusedError) as away:
            await nowhere.first_time("E1")
        with pytest.raises(DBAPIError) as bad:
            async with wrong.engine.connect() as conn:
                await conn.execute(text("SELECT * FROM no_such_table"))
    finally:
        await nowhere.close()
        await wrong.close()
    assert unreachable(away.value)
    assert not unreachable(bad.value)
