"""The failure watcher on the demo world: the nightly runs (not triggered from chat) fail and go stale as
the demo means them to, and the sweep, the console preview and the scheduled job report exactly that."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr

from bot.adapters.orchestrator.airflow import AirflowOrchestrator
from bot.alerts.runs_seen import run_findings
from bot.alerts.watch import sweep
from bot.foundation.ports import RunReport, RunState
from bot.scheduler import watch_failures
from bot.state import results as stored
from bot.state.incidents import Cleared, Incidents
from tests.support.bot import BotHarness
from tests.test_alerts import surface_of, text_of

# The demo's nightly runs once per module (its runs stay in the session's demo world), before any bot.
pytestmark = pytest.mark.usefixtures("after_nightly")


async def test_the_nightly_failure_and_the_stale_entity_are_in_the_digest_preview(bot: BotHarness) -> None:
    shown = await bot.console("/amd digest preview")
    payments = shown[shown.index("#amd-payments-support") :]
    assert "DAG `amd_payment` failed" in payments
    assert "cause: test `non_negative_payment_amount_cents`" in payments
    assert "Owners: payments-team" in payments
    logistics = shown[shown.index("#amd-logistics-support") : shown.index("#amd-payments-support")]
    assert "`delivery_address` is stale" in logistics and "Owners: lena.m" in logistics
    for fine in ("amd_user", "amd_purchase", "amd_delivery_address"):
        assert f"DAG `{fine}` failed" not in shown

    listed = await bot.console("/amd alerts payments-team")
    assert "run:amd_payment" in listed and "stale:delivery_address" not in listed


async def test_the_scheduled_job_alerts_the_failed_production_run_once_across_replicas(
    bot: BotHarness,
) -> None:
    surface = surface_of(bot)
    await watch_failures(bot.backends, surface)
    await watch_failures(bot.backends, surface)  # a second replica's tick, or the next one
    (told,) = bot.slack.messages("#amd-payments-support")
    assert "DAG `amd_payment` failed" in text_of(told)
    assert "non_negative_payment_amount_cents" in text_of(told)
    assert bot.slack.messages("#amd-logistics-support") == []  # stale is for the digest, not a page

    await bot.press("#amd-payments-support", told, "Re-run failed", user="U1")
    async with asyncio.timeout(60):  # /amd run's own confirmation, in the alert's thread
        while not (asked := [m for m in bot.slack.messages("#amd-payments-support") if "thread_ts" in m]):
            await asyncio.sleep(0.2)
    assert "non_negative_payment_amount_cents" in text_of(asked[0])
    assert "Re-run failed tasks" in text_of(asked[0])


async def test_an_unreachable_orchestrator_is_named_and_resolves_nothing(bot: BotHarness) -> None:
    first = await sweep(bot.backends, now=datetime.now(UTC))
    assert "orchestrator" not in first.unreadable
    bot.backends.orchestrator = AirflowOrchestrator.with_password(
        "http://127.0.0.1:9", "bot", SecretStr("pw"), attempts=1, timeout_s=2
    )
    down = await sweep(bot.backends, now=datetime.now(UTC))
    assert "Airflow at http://127.0.0.1:9" in down.unreadable["orchestrator"]
    still = await Incidents(bot.backends.state.engine).get("run:amd_payment")
    assert still is not None and still.state == "open"
    shown = await bot.console("/amd digest preview")
    assert "Could not read the orchestrator" in shown


async def test_a_failing_test_of_the_bots_own_dbt_run_joins_its_dags_failure(bot: BotHarness) -> None:
    started = datetime.now(UTC)
    await bot.console("/amd test payment")
    results = stored.TestResults(bot.backends.state.engine)
    async with asyncio.timeout(180):
        while not await results.results_since(started):
            await asyncio.sleep(0.5)

    await sweep(bot.backends, now=datetime.now(UTC))
    failed = [i for i in await Incidents(bot.backends.state.engine).all() if i.kind == "test"]
    assert [i.subject for i in failed] == ["non_negative_payment_amount_cents"]
    assert failed[0].owner == "payments-team" and failed[0].entity == "payment"
    shown = await bot.console("/amd digest preview")
    payments = shown[shown.index("#amd-payments-support") :]
    assert "2 open (2 new)" in payments  # the run and its test…
    assert "blast radius: `non_negative_payment_amount_cents` (test)" in payments  # …as one item


async def test_a_success_read_in_a_later_sweep_than_the_failure_still_names_the_run_that_fixed_it(
    bot: BotHarness,
) -> None:
    # The failure was read hours before (another sweep): the recovered alert must still say "by run r2".
    fixed = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    success = RunReport(RunState("amd_payment", "r2", "success", ended_at=fixed))

    found, cleared = run_findings(bot.backends, [success])

    assert found == [] and cleared == [Cleared("run:amd_payment", fixed, {"recovered_run_id": "r2"})]
