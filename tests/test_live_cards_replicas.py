"""Two bot replicas (separate OS processes, each its HTTP server and scheduler) on one PostgreSQL and one
FakeSlack, following migration cards while Slack answers 429s, errors and "gone" (issue #8, points 3
and 6). Everything asserted is what FakeSlack received, or what the shared state store holds."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.foundation.settings import Settings
from bot.migration.client import ChunkReport, ValidationReport
from bot.migration.ledger import Ledger
from bot.render.slack import to_blocks
from bot.state.cards import CardStore
from bot.state.store import SqlState
from commands.migration import views
from tests.slack_fake.web_api import Call
from tests.support.postgres import scratch_database
from tests.support.replicas import BotProcess, replicas
from tests.test_live_cards import spec

pytestmark = pytest.mark.postgres
ALPHA, BETA, GAMMA = "alpha_history", "beta_history", "gamma_history"
MIN_INTERVAL_S = 1.0


@pytest.fixture
async def database() -> AsyncIterator[str]:
    async for url in scratch_database("amd_cards"):
        yield url


async def until(condition: Callable[[], Any], timeout: float, what: str) -> None:
    async with asyncio.timeout(timeout):
        while not await condition():
            await asyncio.sleep(0.1)
    assert await condition(), what


async def test_two_replicas_keep_cards_current_within_budget_through_slacks_refusals(
    demo_settings: Settings, database: str, tmp_path: Path
) -> None:
    migrations = json.dumps([spec(n).model_dump(mode="json") for n in (ALPHA, BETA, GAMMA)])
    state = SqlState(database)
    await state.migrate()
    ledger = Ledger.on(state, [spec(ALPHA), spec(BETA), spec(GAMMA)])
    async with replicas(
        demo_settings,
        database,
        tmp_path,
        migrations=migrations,
        poll_interval_s="0.3",
        card_min_interval_s=str(MIN_INTERVAL_S),
    ) as (group, slack):
        a, b = await group.start("a"), await group.start("b")
        try:
            # Cards asked on both replicas; the second alpha card replaces the first.
            old_alpha = await show(a, ALPHA, "CA")
            beta = await show(b, BETA, "CB")
            gamma = await show(a, GAMMA, "CG")
            alpha = await show(b, ALPHA, "CA2")
            slack.delete_message("CG", gamma)  # somebody deletes gamma's card: gone for good
            slack.fail_next("chat.update", status=429, retry_after=2, times=2, channel="CA2")
            slack.fail_next("chat.update", status=200, error="fatal_error", times=2, channel="CB")

            for step in range(1, 26):  # copy jobs report while the replicas tick
                at = datetime.now(UTC)
                for name in (ALPHA, BETA, GAMMA):
                    await ledger.report(name, ChunkReport(source="mongo", chunk=f"c{step}", rows=40), at=at)
                await asyncio.sleep(0.25)
            done = datetime.now(UTC) + timedelta(seconds=1)
            for name in (ALPHA, BETA):
                await ledger.record_validation(
                    name, ValidationReport(source="mongo", target_rows=1_000), at=done
                )

            store = CardStore(state.engine)
            await until(lambda: _none_live(store), 60, "cards still live after the migrations were validated")
        finally:
            for bot in (a, b):
                await bot.terminate(timeout_s=20)

        updates = slack.calls_to("chat.update")
        by_card = {ts: [c for c in updates if c.args["ts"] == ts] for ts in (old_alpha, alpha, beta, gamma)}

        # The final content of each card is the newest state of its migration.
        for name, channel, ts in ((ALPHA, "CA2", alpha), (BETA, "CB", beta)):
            newest = views.card(await ledger.progress(name, now=datetime.now(UTC)), spec(name), [], {})
            assert slack.message(channel, ts)["blocks"] == json.loads(json.dumps(to_blocks(newest)))
            assert "1,000 / 1,000" in json.dumps(slack.message(channel, ts)["blocks"])

        # No older render after a newer one: the rows shown only grow, card by card.
        for ts in (alpha, beta):
            shown = [_rows(c) for c in by_card[ts] if c.ok]
            assert shown == sorted(shown), shown

        # Two 429s delayed alpha without dropping it; beta's two errors stopped neither it nor alpha.
        assert [c.status for c in by_card[alpha]][:2] == [429, 429]
        assert [c.response.get("error") for c in by_card[beta]][:2] == ["fatal_error", "fatal_error"]
        assert all(c.ok for c in by_card[alpha][2:] + by_card[beta][2:])

        # The gone card was tried once and retired; a replica said so in its log.
        assert [c.response.get("error") for c in by_card[gamma]] == ["message_not_found"]
        logs = group.logs()
        assert re.search(
            rf"live card \d+ \(migration {GAMMA}\) retired: Slack answers message_not_found", logs
        )

        # One card per migration: the replaced alpha card was told once and never updated after.
        (replaced,) = by_card[old_alpha]
        assert "No longer updated" in json.dumps(replaced.args["blocks"])

        # The budget: never two updates of one card closer than the card's interval (wide margin),
        # and no 429 beyond the two injected ones.
        for calls in by_card.values():
            assert all(
                later.at - earlier.at >= MIN_INTERVAL_S / 2 for earlier, later in itertools.pairwise(calls)
            )
        assert sum(c.status == 429 for c in slack.calls_to("chat.update")) == 2
    await state.close()


async def show(bot: BotProcess, name: str, channel: str) -> str:
    """`/amd migration <name>` in `channel`, signed as Slack signs it; the ts of the posted card."""
    assert (await bot.slash(f"migration {name}", user="U1", channel=channel)).status == 200

    def cards() -> list[str]:
        return [m["ts"] for m in bot.slack.messages(channel) if name in json.dumps(m.get("blocks", []))]

    async def posted() -> bool:
        return bool(cards())

    await until(posted, 30, f"no card for {name} in {channel}")
    return cards()[0]


async def _none_live(store: CardStore) -> bool:
    return not await store.unsettled()


def _rows(call: Call) -> int:
    found = re.search(r"([\d,]+) / 1,000 rows", json.dumps(call.args["blocks"], ensure_ascii=False))
    assert found, call.args
    return int(found.group(1).replace(",", ""))
