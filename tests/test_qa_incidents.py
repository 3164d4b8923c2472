""" "Any open incidents?" on the demo world after its nightly runs: the answer and the Home tab report
the incidents a real sweep of the failure watcher opened — the ones `/amd alerts` lists — as of that
sweep, and never an all-clear when the sweep could not read a source. (Named to run after
tests/test_qa_facts.py, which wants a demo world where no DAG has run yet.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from bot.adapters.orchestrator.airflow import AirflowOrchestrator
from bot.alerts.watch import sweep
from bot.render import format as fmt
from bot.state.incidents import Incidents
from tests.support.bot import BotHarness

# The demo's nightly runs once per module (its runs stay in the session's demo world), before any bot.
pytestmark = pytest.mark.usefixtures("after_nightly")


async def test_before_the_watcher_swept_the_answer_says_it_knows_nothing_either_way(bot: BotHarness) -> None:
    out = await bot.console("@amd any open incidents?", "/amd home")

    assert out.count("The failure watcher has not swept yet") == 2
    assert "No open incidents" not in out


async def test_the_answer_lists_what_the_sweep_opened_by_owner_and_entity(bot: BotHarness) -> None:
    swept_at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=3)
    await sweep(bot.backends, now=swept_at)
    opened = {i.key: i for i in await Incidents(bot.backends.state.engine).all()}
    assert {"run:amd_payment", "stale:delivery_address"} <= set(opened)  # what the demo means to fail

    everything = await bot.console("@amd any open incidents?")
    payments = await bot.console("@amd anything failing for payments-team?")
    address = await bot.console("@amd any open incidents for delivery address?")

    assert f"{len(opened)} open incidents for all entities" in everything
    for incident in opened.values():
        assert incident.summary in everything
    assert f"as of {fmt.when(swept_at)}, from the failure watcher's incidents" in everything
    assert "more: `/amd alerts`" in everything
    assert opened["run:amd_payment"].summary in payments and "owner: payments-team" in payments
    assert "delivery_address" not in payments and "more: `/amd alerts payments-team`" in payments
    assert opened["stale:delivery_address"].summary in address and "amd_payment" not in address


async def test_acknowledged_incidents_fold_into_a_count_and_home_shows_the_same(bot: BotHarness) -> None:
    now = datetime.now(UTC)
    await sweep(bot.backends, now=now)
    store = Incidents(bot.backends.state.engine)
    assert await store.act("run:amd_payment", "acknowledged", by="U1", now=now, until=None)
    still_open = [i for i in await store.all() if i.state == "open"]
    assert [i.key for i in still_open] == ["stale:delivery_address"]

    payments = await bot.console("@amd anything failing for payments-team?")
    home = await bot.console("/amd home")

    assert "✓ No open incidents for payments-team (1 acknowledged or snoozed)." in payments
    assert "Open incidents" in home and "`/amd alerts` lists them all" in home
    assert "1 open incident for all entities (1 acknowledged or snoozed)" in home
    assert still_open[0].summary in home
    assert home.index("Open incidents") < home.index("AMD entities")  # first: what needs someone now

    opened = {"type": "app_home_opened", "user": "U0ANNA0001", "channel": "D0ANNA0001", "tab": "home"}
    await bot.event(opened, event_id="EvFireHome")
    await bot.slack.wait_for("views.publish")
    tab = bot.slack.workspace.home_tabs["U0ANNA0001"]["blocks"]
    assert len(tab) <= 100 and "Open incidents" in str(tab) and "(1 acknowledged or snoozed)" in str(tab)


async def test_a_source_the_last_sweep_could_not_read_is_named_instead_of_all_green(bot: BotHarness) -> None:
    await sweep(bot.backends, now=datetime.now(UTC))
    bot.backends.orchestrator = AirflowOrchestrator.with_password(
        "http://127.0.0.1:9", "bot", SecretStr("pw"), attempts=1, timeout_s=2
    )
    down = await sweep(bot.backends, now=datetime.now(UTC))
    assert "orchestrator" in down.unreadable

    out = await bot.console("@amd any incidents for user?")

    assert "No open incidents on record for `user`, but that may be incomplete:" in out
    assert "The last sweep could not read the orchestrator." in out
    assert "white_check_mark" not in out and "✓" not in out
