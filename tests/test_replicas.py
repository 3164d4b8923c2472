"""Two amd-bot processes on one PostgreSQL behave as one bot: a cancel reaches the run wherever it
was pressed, the dbt concurrency limit holds across both, and a run whose process died does not stay
"running" forever. Real OS processes (`amd-bot serve --http`), signed requests, FakeSlack.

dbt is the real one started late (tests/support/slow_dbt.py), so each run lasts far longer than the
bot needs to act on it: every wait below has a wide margin, and no assertion depends on a tight time.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.foundation.settings import Settings
from bot.state import results as state_tests
from bot.state.store import SqlState
from tests.slack_fake.web_api import FakeSlack
from tests.support.postgres import scratch_database
from tests.support.replicas import BotProcess, replicas
from tests.support.slow_dbt import invocations, slow_dbt

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
LONG = 120.0  # dbt waits this long before it starts: "still running" for the whole of a test
ACT_WITHIN = 60.0  # what the bot is given to act (a poll is ~1 s): generous on a loaded machine


@pytest.fixture
async def state_url() -> AsyncIterator[str]:
    async for url in scratch_database("amd_replicas"):
        yield url


@pytest.fixture
async def runs(state_url: str) -> AsyncIterator[state_tests.TestResults]:
    """The test's own view of the shared store."""
    state = SqlState(state_url)
    try:
        yield state_tests.TestResults(state.engine)
    finally:
        await state.close()


def text_of(message: dict[str, Any]) -> str:
    return json.dumps(message.get("blocks", []), ensure_ascii=False) + message.get("text", "")


async def card(slack: FakeSlack, channel: str, *, showing: str, title: str = "dbt test:") -> dict[str, Any]:
    """The top-level test card in `channel` once it shows `showing`."""
    async with asyncio.timeout(ACT_WITHIN):
        while True:
            for message in slack.messages(channel):
                if "thread_ts" not in message and title in text_of(message) and showing in text_of(message):
                    return message
            await asyncio.sleep(0.1)


def run_key(message: dict[str, Any]) -> str:
    (cancel,) = [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
    return str(cancel["value"])


async def run_once(runs: state_tests.TestResults, key: str, status: str) -> state_tests.TestRun:
    async with asyncio.timeout(ACT_WITHIN):
        while (run := await runs.run(key)) is None or run.status != status:
            await asyncio.sleep(0.2)
    return run


async def answer(bot: BotProcess, text: str, *, user: str, channel: str) -> str:
    (posted,) = await bot.answers(await bot.slash(text, user=user, channel=channel), timeout=ACT_WITHIN)
    return text_of(posted)


async def test_cancel_pressed_on_one_replica_stops_the_run_on_the_other(
    demo_settings: Settings, state_url: str, runs: state_tests.TestResults, tmp_path: Path
) -> None:
    async with replicas(
        demo_settings, state_url, tmp_path, dbt_executable=slow_dbt(tmp_path, LONG), cancel_poll_s="0.5"
    ) as (group, slack):
        a, b = await group.start("a"), await group.start("b")

        await a.slash("/amd test payment", user="U7", channel="C1")
        first = await card(slack, "C1", showing="Cancel")
        said = await answer(b, "/amd test cancel", user="U7", channel="C1")  # typed where A does not run it
        assert f"Cancelling `{run_key(first)}`" in said
        assert "Cancelled before it finished" in text_of(await card(slack, "C1", showing="Cancelled"))
        await run_once(runs, run_key(first), "cancelled")

        await a.slash("/amd test user", user="U7", channel="C2")
        second = await card(slack, "C2", showing="Cancel")
        assert (await b.press("C2", second, "Cancel", user="U7")).status == 200  # the button, on B
        assert "Cancelled before it finished" in text_of(await card(slack, "C2", showing="Cancelled"))
        await run_once(runs, run_key(second), "cancelled")


async def test_the_dbt_concurrency_limit_holds_across_two_processes(
    demo_settings: Settings, state_url: str, runs: state_tests.TestResults, tmp_path: Path
) -> None:
    journal = tmp_path / "dbt-journal"
    # Each replica has its own DuckDB file, so no file lock serialises them: only the shared limit can.
    async with replicas(
        demo_settings,
        state_url,
        tmp_path,
        dbt_executable=slow_dbt(tmp_path, 5, journal),
        dbt_max_concurrency="1",
    ) as (group, slack):
        a, b = await group.start("a"), await group.start("b")

        await asyncio.gather(
            a.slash("/amd test payment", user="U1", channel="C1"),
            b.slash("/amd test user", user="U2", channel="C2"),
        )
        for channel in ("C1", "C2"):
            await card(slack, channel, showing="finished")

        first, second = invocations(journal)
        assert first.ended is not None and second.ended is not None
        assert first.ended <= second.started  # one dbt at a time, across both processes
        waited = [c for c in slack.calls_to("chat.update") if "Queued" in json.dumps(c.args)]
        assert waited, "the card of the run that waited said so"


async def test_a_killed_replicas_running_row_is_reconciled_by_a_restart(
    demo_settings: Settings, state_url: str, runs: state_tests.TestResults, tmp_path: Path
) -> None:
    journal = tmp_path / "dbt-journal"
    async with replicas(
        demo_settings, state_url, tmp_path, dbt_executable=slow_dbt(tmp_path, LONG, journal), lease_ttl_s="3"
    ) as (group, slack):
        a, b = await group.start("a"), await group.start("b")
        await a.slash("/amd test payment", user="U7", channel="C1")
        await b.slash("/amd test user", user="U8", channel="C2")
        running = await card(slack, "C1", showing="Cancel")
        key, live = run_key(running), run_key(await card(slack, "C2", showing="Cancel"))
        async with asyncio.timeout(ACT_WITHIN):
            while len(invocations(journal)) < 2:
                await asyncio.sleep(0.1)

        await a.kill()
        group.dbt_groups += [i.pid for i in invocations(journal)]  # orphaned with A: ended at cleanup
        assert (await runs.run(key)).status == "running"  # type: ignore[union-attr]
        await group.start("a-restarted", home="a")

        lost = await run_once(runs, key, "lost")
        assert lost.ended_at is not None
        shown = await card(slack, "C1", showing="Stopped")
        assert shown["ts"] == running["ts"]  # the same card, updated: no Cancel button for a dead run
        assert "the amd-bot process running it ended" in text_of(shown)
        assert "Cancel" not in text_of(shown)
        other = await runs.run(live)
        assert other is not None and other.status == "running"  # B is alive: its run stays its own


async def test_sigterm_stops_taking_work_and_hands_back_what_it_held(
    demo_settings: Settings, state_url: str, runs: state_tests.TestResults, tmp_path: Path
) -> None:
    async with replicas(
        demo_settings, state_url, tmp_path, dbt_executable=slow_dbt(tmp_path, LONG), shutdown_grace_s="2"
    ) as (group, slack):
        a = await group.start("a")
        await a.slash("/amd test payment", user="U7", channel="C1")
        key = run_key(await card(slack, "C1", showing="Cancel"))

        assert await a.terminate(timeout_s=ACT_WITHIN) == 0  # grace 2 s, then its run was cancelled
        assert "Cancelled before it finished" in text_of(await card(slack, "C1", showing="Cancelled"))
        await run_once(runs, key, "cancelled")
