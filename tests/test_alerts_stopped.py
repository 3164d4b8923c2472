"""DAGs that just stop, on the demo world: the local runner keeps the demo DAGs' nightly schedule (the
DAG factory's `@daily`), so a night with no run is missing and a paused DAG is paused — incidents the
watcher finds, routes and digests like failures, and resolves when the DAG runs again."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta

import pytest

from bot.adapters.orchestrator.local_runs import runs_dir, set_paused
from bot.alerts.watch import sweep
from bot.render.format import when
from bot.state.incidents import Incidents
from tests.support.bot import BotHarness

pytestmark = pytest.mark.usefixtures("after_nightly")  # every demo DAG ran tonight
DAGS = {"amd_user", "amd_purchase", "amd_payment", "amd_delivery_address"}


async def test_a_night_without_runs_is_missing_and_the_next_nights_runs_resolve_it(bot: BotHarness) -> None:
    store = Incidents(bot.backends.state.engine)
    today = datetime.now(UTC)
    await sweep(bot.backends, now=today)
    assert not [i for i in await store.all() if i.kind in ("missing", "paused")]

    # Past midnight and the 30 minutes' grace, and the scheduler never started tomorrow's runs.
    tomorrow = datetime.combine(today.date() + timedelta(days=1), time(0, 31), UTC)
    await sweep(bot.backends, now=tomorrow)
    missing = {i.subject: i for i in await store.all() if i.kind == "missing"}
    assert set(missing) == DAGS
    due = datetime.combine(tomorrow.date(), time(), UTC)
    assert (
        missing["amd_payment"].summary
        == f"DAG `amd_payment` did not run: its run due {when(due)} has not started"
    )
    assert missing["amd_payment"].channel == "#amd-payments-support"
    shown = await bot.console("/amd digest preview")
    assert "DAG `amd_user` did not run" in shown

    # Tomorrow's runs, started late (through the bot's own runner: it reads run records at its start).
    orchestrator = bot.backends.orchestrator
    runs = [await orchestrator.trigger(dag, f"scheduled__{due:%Y-%m-%d}", {}, due) for dag in sorted(DAGS)]
    await sweep(bot.backends, now=tomorrow + timedelta(minutes=5))
    assert {i.key for i in await store.all() if i.kind == "missing"} == set()
    async with asyncio.timeout(300):  # finished, as the demo's other tests expect its runs to be
        while not all(r.finished for r in await orchestrator.get_runs([r.ref for r in runs])):
            await asyncio.sleep(0.5)


async def test_a_paused_demo_dag_is_an_incident_until_it_is_resumed(bot: BotHarness) -> None:
    store = Incidents(bot.backends.state.engine)
    paused_at = datetime.now(UTC)
    set_paused(runs_dir(bot.backends.settings), "amd_user", paused_at)
    try:
        await sweep(bot.backends, now=paused_at)
        paused = await store.get("paused:amd_user")
        assert paused is not None and paused.state == "open"
        assert paused.summary == (
            f"DAG `amd_user` is paused since {when(paused_at)}: its scheduled runs do not start"
        )
        listed = await bot.console("/amd alerts")
        assert "paused:amd_user" in listed
    finally:
        set_paused(runs_dir(bot.backends.settings), "amd_user", None)

    await sweep(bot.backends, now=datetime.now(UTC))
    resumed = await store.get("paused:amd_user")
    assert resumed is not None and resumed.state == "resolved"
