"""Alert delivery under injected faults, schedule after schedule (tests/support/alert_sim.py): three
replicas on one store, Slack failing in every way it does, replicas killed mid-call, clocks skewed.

AMD_SIM_SCHEDULES sets how many schedules run on SQLite (500 by default), in LANES lanes of their own
database file each (the waits are I/O: lanes overlap them); PostgreSQL runs a fiftieth of them with the
three replicas ticking at once."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from bot.foundation.settings import Settings
from bot.state.store import SqlState
from tests.support.alert_sim import Outcome, run, world
from tests.support.postgres import scratch_database

SCHEDULES = int(os.environ.get("AMD_SIM_SCHEDULES", "500"))
LANES = 8


async def check(settings: Settings, urls: list[str], seeds: range) -> None:
    for url in urls:
        state = SqlState(url)
        await state.migrate()
        await state.close()
    outcomes: list[Outcome] = []
    async with AsyncExitStack() as stack:
        worlds = [await stack.enter_async_context(world(settings, url)) for url in urls]

        async def lane(n: int) -> None:
            for seed in seeds[n :: len(worlds)]:
                outcomes.append(await run(worlds[n], seed))

        await asyncio.gather(*(lane(n) for n in range(len(worlds))))
    violations = [f"seed {o.seed}: {v}" for o in outcomes for v in o.violations]
    assert not violations, "\n".join(violations[:20])
    assert len(outcomes) == len(seeds)
    # The invariants were not vacuous: alerts were delivered, and refusing channels were met.
    assert sum(o.keys for o in outcomes) > len(seeds)
    assert sum(o.problems for o in outcomes) > 0


async def test_every_schedule_delivers_each_alert_once_or_reports_its_channel(
    bot_settings: Settings, tmp_path: Path
) -> None:
    urls = [f"sqlite+aiosqlite:///{tmp_path / f'sim{n}.db'}" for n in range(LANES)]
    await check(bot_settings, urls, range(SCHEDULES))


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    async for url in scratch_database("amd_alert_sim"):
        yield url


@pytest.mark.postgres
async def test_the_same_schedules_hold_on_postgresql_with_replicas_ticking_at_once(
    bot_settings: Settings, pg_url: str
) -> None:
    await check(bot_settings, [pg_url], range(1000, 1000 + max(SCHEDULES // 50, 5)))
