"""The migration ledger: its arithmetic with the clock held still, and its storage on SQLite and
PostgreSQL (the same suite against both adapters of the state store)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete

from bot.foundation.migration_specs import MigrationSpec, SourceSpec
from bot.migration.client import ChunkReport, ExpectedTotals, ValidationReport
from bot.migration.ledger import Ledger, UnknownMigration, UnknownSource
from bot.migration.progress import SourceTotals, Window, eta, percent, rate, stalled_for, valid
from bot.state.schema import migration_chunks, migration_control, migration_sources
from bot.state.store import SqlState

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


# --- the arithmetic ----------------------------------------------------------------------------------


def test_rate_in_steady_state_is_rows_in_the_window_over_the_window() -> None:
    # 30 chunks of 1,000 rows, one every 10 s, all inside a 5-minute window, started long ago.
    assert rate(Window(30_000, 30), at(-3600), at(0), timedelta(minutes=5)) == 100.0


def test_rate_of_a_young_migration_does_not_count_the_unseen_first_chunk() -> None:
    # Reports at 0, 10 and 20 s of 1,000 rows each: the first chunk's copy time was never seen.
    assert rate(Window(3_000, 3), at(0), at(20), timedelta(minutes=5)) == 100.0
    assert rate(Window(1_000, 1), at(0), at(20), timedelta(minutes=5)) is None


def test_rate_is_zero_when_nothing_arrived_in_the_window_and_unknown_before_any_report() -> None:
    assert rate(Window(0, 0), at(-3600), at(0), timedelta(minutes=5)) == 0.0
    assert rate(Window(0, 0), None, at(0), timedelta(minutes=5)) is None


def test_eta() -> None:
    assert eta(6_000, 100.0) == 60.0
    assert eta(0, None) == 0.0
    assert eta(-5, 10.0) == 0.0  # a source that grew after it was counted is done, not negative
    assert eta(6_000, 0.0) is None
    assert eta(None, 100.0) is None


def test_percent_is_capped_and_an_empty_source_is_complete() -> None:
    assert percent(250, 1_000) == 25.0
    assert percent(1_100, 1_000) == 100.0
    assert percent(0, 0) == 100.0
    assert percent(5, None) is None


def test_stall_needs_silence_longer_than_the_threshold_and_someone_expected_to_report() -> None:
    threshold = timedelta(minutes=10)
    assert stalled_for(at(0), at(600), threshold, done=False, paused=False) is None
    assert stalled_for(at(0), at(601), threshold, done=False, paused=False) == 601.0
    assert stalled_for(at(0), at(3600), threshold, done=True, paused=False) is None
    assert stalled_for(at(0), at(3600), threshold, done=False, paused=True) is None
    assert stalled_for(None, at(3600), threshold, done=False, paused=False) is None


def test_validation_verdicts() -> None:
    base = SourceTotals("s", "file", 100, rows=100, last_at=at(10), target_rows=100, validated_at=at(20))
    assert valid(base, done=True) is True
    assert valid(base, done=False) is None
    assert valid(SourceTotals("s", "file", 100, rows=100), done=True) is None  # not validated yet
    assert valid(replace(base, target_rows=99), done=True) is False
    assert valid(replace(base, checksums_compared=3, checksums_mismatched=1), done=True) is False
    assert valid(replace(base, validated_at=at(5)), done=True) is None  # older than the last report


# --- the ledger on both state stores -----------------------------------------------------------------

SPEC = MigrationSpec(
    name="dah",
    target="amd.dah",
    sources=[
        SourceSpec(name="cass", kind="cassandra"),
        SourceSpec(name="mongo", kind="mongodb", expected_rows=2_000),
    ],
    stall_after_s=600,
    rate_window_s=300,
)


@pytest.fixture
async def state(state_url: str) -> AsyncIterator[SqlState]:
    store = SqlState(state_url)
    await store.migrate()
    async with store.engine.begin() as conn:
        for table in (migration_chunks, migration_sources, migration_control):
            await conn.execute(delete(table))
    yield store
    await store.close()


@pytest.fixture
def ledger(state: SqlState) -> Ledger:
    return Ledger.on(state, [SPEC])


def chunk(source: str, chunk_id: str, rows: int, **kw: object) -> ChunkReport:
    return ChunkReport.model_validate({"source": source, "chunk": chunk_id, "rows": rows, **kw})


async def test_a_retried_chunk_is_counted_once_and_a_later_report_replaces_it(ledger: Ledger) -> None:
    await ledger.report("dah", chunk("mongo", "oid:00..7f", 500, status="failed"), at=at(0))
    await ledger.report("dah", chunk("mongo", "oid:00..7f", 500), at=at(5))
    await ledger.report("dah", chunk("mongo", "oid:00..7f", 500), at=at(6))  # a client retry

    progress = await ledger.progress("dah", now=at(10))
    mongo = progress.sources[1]
    assert (mongo.rows, mongo.chunks_ok, mongo.failed, mongo.percent) == (500, 1, 0, 25.0)
    assert await ledger.chunks("dah", "mongo") == {"oid:00..7f": "ok"}


async def test_failed_chunks_are_counted_and_listed(ledger: Ledger) -> None:
    await ledger.report("dah", chunk("cass", "token:0..99", 100), at=at(0))
    await ledger.report("dah", chunk("cass", "token:100..199", 0, status="failed"), at=at(1))

    progress = await ledger.progress("dah", now=at(2))
    assert progress.failed == 1
    assert progress.sources[0].rows == 100
    assert await ledger.failed_chunks("dah") == [("cass", "token:100..199")]


async def test_percent_rate_and_eta_per_source_and_overall(ledger: Ledger) -> None:
    await ledger.set_expected("dah", ExpectedTotals(sources={"cass": 8_000}), at=at(0))
    for i in range(6):  # 1,000 rows every 10 s: 100 rows/s
        await ledger.report("dah", chunk("cass", f"token:{i}", 1_000), at=at(10 * i))

    progress = await ledger.progress("dah", now=at(50))
    cass, mongo = progress.sources
    assert (cass.expected, cass.percent) == (8_000, 75.0)
    assert (mongo.expected, mongo.percent) == (2_000, 0.0)  # from config: nothing reported yet
    assert progress.expected == 10_000
    assert progress.percent == 60.0
    assert progress.rate == pytest.approx(100.0)
    assert progress.eta_s == pytest.approx(40.0)
    assert progress.state == "running"

    # Long after, with the window slid past every report: nothing is moving.
    later = await ledger.progress("dah", now=at(50 + 301))
    assert later.rate == 0.0
    assert later.eta_s is None


async def test_overall_percent_is_unknown_while_a_source_is_uncounted(ledger: Ledger) -> None:
    await ledger.report("dah", chunk("mongo", "oid:a", 1_000), at=at(0))
    progress = await ledger.progress("dah", now=at(1))
    assert progress.sources[0].expected is None
    assert (progress.expected, progress.percent) == (None, None)


async def test_stall_starts_after_the_threshold_and_ends_with_the_next_report(ledger: Ledger) -> None:
    assert (await ledger.progress("dah", now=at(0))).state == "waiting"
    await ledger.report("dah", chunk("mongo", "oid:a", 10), at=at(0))
    assert (await ledger.progress("dah", now=at(600))).state == "running"
    stalled = await ledger.progress("dah", now=at(601))
    assert (stalled.state, stalled.stalled_for_s) == ("stalled", 601.0)

    await ledger.report("dah", chunk("mongo", "oid:b", 10), at=at(700))
    assert (await ledger.progress("dah", now=at(701))).state == "running"


async def test_pause_is_recorded_and_a_paused_migration_is_not_stalled(ledger: Ledger) -> None:
    await ledger.report("dah", chunk("mongo", "oid:a", 10), at=at(0))
    await ledger.set_intent("dah", "pause", by="U1", at=at(1))
    intent = await ledger.intent("dah")
    assert (intent.intent, intent.by, intent.at) == ("pause", "U1", at(1))
    assert (await ledger.progress("dah", now=at(3600))).state == "paused"

    await ledger.set_intent("dah", "run", by="U2", at=at(3601))
    assert (await ledger.progress("dah", now=at(3602))).state == "stalled"


async def test_validation_counts_and_checksums(ledger: Ledger) -> None:
    await ledger.set_expected("dah", ExpectedTotals(sources={"cass": 200}), at=at(0))
    await ledger.report("dah", chunk("cass", "token:a", 100, checksum="aa"), at=at(1))
    await ledger.report("dah", chunk("cass", "token:b", 100, checksum="bb"), at=at(2))
    await ledger.report("dah", chunk("mongo", "oid:a", 2_000), at=at(3))
    progress = await ledger.progress("dah", now=at(4))
    assert progress.state == "done"
    assert progress.valid is None  # done, not validated yet

    good = ValidationReport(source="cass", target_rows=200, checksums={"token:a": "aa", "token:b": "bb"})
    await ledger.record_validation("dah", good, at=at(5))
    await ledger.record_validation("dah", ValidationReport(source="mongo", target_rows=2_000), at=at(5))
    progress = await ledger.progress("dah", now=at(6))
    assert [s.valid for s in progress.sources] == [True, True]
    assert progress.sources[0].checksums_compared == 2
    assert progress.valid is True

    bad = ValidationReport(source="cass", target_rows=200, checksums={"token:b": "b0"})
    await ledger.record_validation("dah", bad, at=at(7))
    progress = await ledger.progress("dah", now=at(8))
    assert (progress.sources[0].checksums_mismatched, progress.sources[0].valid) == (1, False)
    assert progress.valid is False

    # The chunk is copied again: its old target checksum no longer describes it, nor the validation.
    await ledger.report("dah", chunk("cass", "token:b", 100, checksum="bb"), at=at(9))
    cass = (await ledger.progress("dah", now=at(10))).sources[0]
    assert (cass.checksums_compared, cass.checksums_mismatched, cass.valid) == (1, 0, None)


async def test_unknown_migration_or_source_is_refused_and_nothing_stored(ledger: Ledger) -> None:
    with pytest.raises(UnknownMigration):
        await ledger.report("nope", chunk("cass", "x", 1), at=at(0))
    with pytest.raises(UnknownSource, match="sources: cass, mongo"):
        await ledger.report("dah", chunk("oracle", "x", 1), at=at(0))
    with pytest.raises(UnknownSource):
        await ledger.set_expected("dah", ExpectedTotals(sources={"cass": 1, "oracle": 2}), at=at(0))
    assert (await ledger.progress("dah", now=at(1))).rows == 0
    assert (await ledger.progress("dah", now=at(1))).sources[0].expected is None


async def test_ledgers_of_two_migrations_do_not_mix(state: SqlState) -> None:
    other = SPEC.model_copy(update={"name": f"x{uuid.uuid4().hex[:8]}"})
    ledger = Ledger.on(state, [SPEC, other])
    await ledger.report("dah", chunk("cass", "t", 5), at=at(0))
    await ledger.report(other.name, chunk("cass", "t", 7), at=at(0))
    assert (await ledger.progress("dah", now=at(1))).rows == 5
    assert (await ledger.progress(other.name, now=at(1))).rows == 7
