""" "Why" questions get causes, not the symptom again, on the demo world after its nightly runs
(`amd_payment` fails on its test, `delivery_address` stays stale because its events stopped)."""

from __future__ import annotations

import pytest

from tests.support.bot import BotHarness

pytestmark = pytest.mark.usefixtures("after_nightly")


async def test_why_stale_follows_the_chain_to_the_events_that_stopped(bot: BotHarness) -> None:
    out = await bot.console("@amd why is delivery_address stale?")

    assert "`delivery_address` is stale, last load" in out
    assert "no `delivery_address_changed` events since" in out and "the events stopped arriving" in out
    assert "newest `events.events` row" in out and "arriving" in out  # the source itself still fills
    assert "its DAG `amd_delivery_address` last ran" in out  # it ran: not the cause


async def test_why_did_it_fail_names_the_failed_tasks_and_the_failing_test(bot: BotHarness) -> None:
    # The demo keeps no dbt results of its DAGs' tasks (AMD_DBT_RESULTS_DIR): the failing test is the
    # one `/amd test` stored.
    out = await bot.console("/amd test payment", "@amd why did amd_payment fail?")

    assert "its DAG `amd_payment` failed (run `" in out and "failed tasks `" in out
    assert "failing test `non_negative_payment_amount_cents`: fail, 7 failing rows" in out
