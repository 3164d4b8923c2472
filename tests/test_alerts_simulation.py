"""Alerts under injected faults, schedule after schedule (tests/support/alert_sim.py): three replicas on
one store watching an orchestrator whose runs fail, recover and pause, Slack failing in every way it
does, replicas killed mid-call, clocks skewed (the replicas' and the orchestrator's).

AMD_SIM_SCHEDULES sets how many schedules run on SQLite (100 by default: 1–2 minutes of the suite on a
busy 2-core box; AMD_SIM_SCHEDULES=2000 for a deeper run before a release), each on a database file of its
own copied from one migrated template (a shared one grows with every schedule, and every tick reads all
of it), in LANES lanes (the waits are SQLite's worker threads: lanes overlap them); PostgreSQL runs a
tenth of them on one database with the three replicas ticking at once."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.foundation.settings import Settings
from bot.state.store import SqlState
from tests.support.alert_sim import run
from tests.support.alert_sim_checks import Outcome
from tests.support.alert_sim_world import own_store, world
from tests.support.postgres import scratch_database

SCHEDULES = int(os.environ.get("AMD_SIM_SCHEDULES", "100"))
LANES = 8


async def check(settings: Settings, url: str, seeds: range, *, lanes: int, fresh: Path | None = None) -> None:
    """Run `seeds` in `lanes` lanes; with `fresh`, each schedule on a copy of `url`'s (SQLite) file there."""
    state = SqlState(url)
    await state.migrate()
    await state.close()
    outcomes: list[Outcome] = []
    async with world(settings, url) as shared:

        async def one(seed: int) -> Outcome:
            if fresh is None:
                return await run(shared, seed)
            copy = fresh / f"s{seed}.db"
            shutil.copyfile(url.split(":///", 1)[1], copy)
            try:
                async with own_store(shared, f"sqlite+aiosqlite:///{copy}") as mine:
                    return await run(mine, seed)
            finally:
                copy.unlink()

        async def lane(n: int) -> None:
            for seed in seeds[n::lanes]:
                outcomes.append(await one(seed))

        await asyncio.gather(*(lane(n) for n in range(lanes)))
    violations = [f"seed {o.seed}: {v}" for o in outcomes for v in o.violations]
    assert not violations, "\n".join(violations[:20])
    assert len(outcomes) == len(seeds)
    # The invariants were not vacuous: alerts were delivered, refusing channels were met, runs failed.
    assert sum(o.keys for o in outcomes) > len(seeds)
    assert sum(o.problems for o in outcomes) > 0
    assert sum(o.failed_runs for o in outcomes) > len(seeds)


@pytest.mark.timeout(900)  # every tick sweeps an orchestrator too: minutes on a busy 2-core box
async def test_every_schedule_delivers_each_alert_once_or_reports_its_channel(
    bot_settings: Settings, tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'template.db'}"
    await check(bot_settings, url, range(SCHEDULES), lanes=LANES, fresh=tmp_path)


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    async for url in scratch_database("amd_alert_sim"):
        yield url


@pytest.mark.postgres
async def test_the_same_schedules_hold_on_postgresql_with_replicas_ticking_at_once(
    bot_settings: Settings, pg_url: str
) -> None:
    await check(bot_settings, pg_url, range(1000, 1000 + max(SCHEDULES // 10, 5)), lanes=1)
