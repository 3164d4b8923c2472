"""Observations carry when they were true, on each state store dialect (SQLite and PostgreSQL): an older
one never undoes a newer, whichever replica writes it last (issue 18, found bug 7), and a store made
before version 10 gains the column on upgrade."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from bot.state.incidents import Cleared, Incidents
from bot.state.store import SqlState
from tests.test_alerts import failed_run

FAILED = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # the orchestrator's end dates
FIXED = FAILED + timedelta(minutes=20)


@pytest.fixture
async def store(state_url: str) -> AsyncIterator[Incidents]:
    state = SqlState(state_url)
    await state.migrate()
    async with state.engine.begin() as conn:
        await conn.execute(text("DELETE FROM amd_incidents"))  # the module shares one database
    yield Incidents(state.engine)
    await state.close()


async def test_an_older_failure_written_last_does_not_reopen_a_newer_recovery(store: Incidents) -> None:
    now = datetime.now(UTC)
    failure = replace(failed_run(run_id="r1"), observed_at=FAILED)
    await store.observe([failure], (), now)
    await store.observe((), [Cleared("run:amd_payment", FIXED, {"recovered_run_id": "r2"})], now)

    await store.observe([failure], (), now + timedelta(minutes=1))  # a slow replica's read of r1

    incident = await store.get("run:amd_payment")
    assert incident is not None and incident.state == "resolved"
    assert (incident.detail["run_id"], incident.detail["recovered_run_id"]) == ("r1", "r2")
    assert incident.observed_at == FIXED


async def test_an_older_success_does_not_resolve_a_newer_failure(store: Incidents) -> None:
    now = datetime.now(UTC)
    await store.observe([replace(failed_run(run_id="r3"), observed_at=FIXED)], (), now)

    await store.observe((), [Cleared("run:amd_payment", FAILED)], now + timedelta(minutes=1))

    incident = await store.get("run:amd_payment")
    assert incident is not None and incident.state == "open"


async def test_a_newer_failure_reopens_and_one_in_between_does_not(store: Incidents) -> None:
    now = datetime.now(UTC)
    await store.observe([replace(failed_run(run_id="r1"), observed_at=FAILED)], (), now)
    await store.observe((), [Cleared("run:amd_payment", FIXED)], now)
    # Read healthy again later: a failure between the two readings is older than what is known now.
    later = FIXED + timedelta(hours=1)
    await store.observe((), [Cleared("run:amd_payment", later)], now)
    await store.observe([replace(failed_run(run_id="r2"), observed_at=later - timedelta(minutes=1))], (), now)
    incident = await store.get("run:amd_payment")
    assert incident is not None and incident.state == "resolved"

    await store.observe([replace(failed_run(run_id="r4"), observed_at=later + timedelta(hours=1))], (), now)

    reopened = await store.get("run:amd_payment")
    assert reopened is not None and reopened.state == "open" and reopened.detail["run_id"] == "r4"


async def test_the_same_failure_read_again_keeps_the_earlier_runs_a_wider_read_recorded(
    store: Incidents,
) -> None:
    # Found by the simulation: a replica whose runs mark had moved past r1 reads only r2, at the same time.
    now = datetime.now(UTC)
    failed = replace(failed_run(run_id="r2"), observed_at=FIXED)
    await store.observe([replace(failed, detail={**failed.detail, "earlier_failed_runs": ["r1"]})], (), now)

    await store.observe([failed], (), now + timedelta(minutes=1))

    incident = await store.get("run:amd_payment")
    assert incident is not None and incident.detail["earlier_failed_runs"] == ["r1"]


async def test_resolved_by_a_person_stays_resolved_while_the_sweeps_read_runs_that_failed_before(
    store: Incidents,
) -> None:
    """Resolve on a DAG whose last run still failed: the next sweeps read that run again (the read
    overlaps) and a slow one a run that failed in between; neither reopens it. A run after does."""
    now = FIXED + timedelta(minutes=10)  # the bot's clock when the person pressed Resolve
    await store.observe([replace(failed_run(run_id="r1"), observed_at=FAILED)], (), now)
    assert await store.act("run:amd_payment", "resolved", by="U_OPS", now=now, until=None)

    await store.observe(
        [replace(failed_run(run_id="r1"), observed_at=FAILED)], (), now + timedelta(minutes=1)
    )
    await store.observe([replace(failed_run(run_id="r2"), observed_at=FIXED)], (), now + timedelta(minutes=2))

    kept = await store.get("run:amd_payment")
    assert kept is not None and (kept.state, kept.acted_by, kept.detail["run_id"]) == (
        "resolved",
        "U_OPS",
        "r1",
    )
    await store.observe([replace(failed_run(run_id="r3"), observed_at=now + timedelta(hours=1))], (), now)
    reopened = await store.get("run:amd_payment")
    assert reopened is not None and (reopened.state, reopened.detail["run_id"]) == ("open", "r3")


async def test_a_store_at_version_8_gains_the_observation_time_and_keeps_incidents(state_url: str) -> None:
    state = SqlState(state_url)
    try:
        await state.migrate()
        store = Incidents(state.engine)
        await store.observe([failed_run(run_id="before")], (), datetime.now(UTC))
        async with state.engine.begin() as conn:  # as version 8 made it: no observed_at yet
            await conn.execute(text("ALTER TABLE amd_incidents DROP COLUMN observed_at"))
            await conn.execute(text("UPDATE amd_alembic_version SET version_num = '0008'"))

        done = await state.migrate()

        assert done.before == "0008"
        kept = await store.get("run:amd_payment")
        assert kept is not None and kept.observed_at is None and kept.detail["run_id"] == "before"
        # With no observation time on record, a failure newer than the resolution still reopens it.
        await store.observe((), ["run:amd_payment"], datetime.now(UTC))
        await store.observe([replace(failed_run(), observed_at=datetime.now(UTC))], (), datetime.now(UTC))
        reopened = await store.get("run:amd_payment")
        assert reopened is not None and reopened.state == "open"
    finally:
        await state.close()
