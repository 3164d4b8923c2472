"""What help-channel answers keep in the state store, on SQLite and on PostgreSQL shared by replicas:
rate-limit counts that no concurrent replica loses, the threads the bot answered in, and the freshness the
failure watcher observed (a moment's, and when a run of alike observations began)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.state.answers import AnswerState, Asked
from bot.state.freshness import FreshnessHistory, Sample
from bot.state.store import SqlState

NOW = datetime(2026, 12, 2, 9, 41, 30, tzinfo=UTC)


@pytest.fixture
async def state(state_url: str) -> AsyncIterator[SqlState]:
    store = SqlState(state_url)
    try:
        await store.migrate()
        yield store
    finally:
        await store.close()


async def test_two_replicas_counting_at_once_lose_no_count(state_url: str) -> None:
    replicas = [SqlState(state_url), SqlState(state_url)]
    try:
        await replicas[0].migrate()
        counters = [AnswerState(r.engine) for r in replicas]
        key = f"user:U1:{state_url[:6]}"

        # Windows are the store's clock's: no replica's clock is asked (they may disagree by minutes).
        whole = 10**9  # seconds: one window for the whole test
        asked = (counters[n % 2].count(key, window_s=whole, now=NOW) for n in range(20))
        counts = await asyncio.gather(*asked)
        assert sorted(n for n, _ in counts) == list(range(1, 21))  # each question got its own number
        assert len({window for _, window in counts}) == 1
        assert await counters[0].counted(key, window_s=whole) == 20

        first, window = await counters[0].count(key, window_s=0.5, now=NOW)
        await asyncio.sleep(1.1)  # the store's clock is past that half-second window, whatever ours says
        again, next_window = await counters[1].count(key, window_s=0.5, now=NOW)
        assert (first, again) == (1, 1) and window != next_window
    finally:
        for replica in replicas:
            await replica.close()


async def test_a_thread_remembers_the_last_answer_and_is_pruned(state: SqlState, state_url: str) -> None:
    threads = AnswerState(state.engine)
    channel = f"C{state_url[:6]}"

    assert await threads.recall(channel, "1.1") is None
    await threads.remember(channel, "1.1", Asked("freshness", "payment"), now=NOW)
    await threads.remember(channel, "1.1", Asked("owner", "payment"), now=NOW)  # the newest answer wins

    assert await threads.recall(channel, "1.1") == Asked("owner", "payment")
    assert await threads.recall(channel, "2.2") is None
    later = NOW + timedelta(days=1)
    pruned = await state.prune(records_before=later, events_before=later, audit_before=later)
    assert pruned["answered threads"] >= 1 and pruned["rate windows"] >= 0
    assert await threads.recall(channel, "1.1") is None


async def test_freshness_observations_are_kept_found_near_a_moment_and_pruned(
    state: SqlState, state_url: str
) -> None:
    history = FreshnessHistory(state.engine)
    entity = f"payment_{state_url[:6]}"
    seen = [Sample(entity, NOW - timedelta(minutes=m), NOW - timedelta(hours=1), True, 12.0) for m in (0, 5)]
    await history.record(seen)
    await history.record(seen[:1])  # another replica's sweep of the same instant: kept once

    near = await history.at(entity, NOW - timedelta(minutes=4), within=timedelta(minutes=2))
    far = await history.at(entity, NOW - timedelta(hours=3), within=timedelta(minutes=2))
    assert near is not None and near.observed_at == NOW - timedelta(minutes=5) and near.fresh is True
    assert far is None  # nothing observed then: no answer, never today's
    later = NOW + timedelta(days=1)
    pruned = await state.prune(records_before=later, events_before=later, audit_before=later)
    assert pruned["freshness samples"] >= 2
    assert await history.at(entity, NOW, within=timedelta(hours=1)) is None


async def test_the_latest_run_of_alike_observations_is_found_and_told_whole_or_cut(
    state: SqlState, state_url: str
) -> None:
    history = FreshnessHistory(state.engine)
    entity = f"user_{state_url[:6]}"
    judged = [False, False, True, True, None, False, False]  # oldest first, one sweep an hour
    at = [NOW - timedelta(hours=len(judged) - n) for n in range(len(judged))]
    await history.record([Sample(entity, a, None, f, 24.0) for a, f in zip(at, judged, strict=True)])

    going_on = await history.streak(entity)
    last_fresh = await history.streak(entity, fresh=True)
    assert going_on is not None and (going_on.first.observed_at, going_on.last.observed_at) == (
        at[5],
        at[6],
    )
    assert going_on.whole  # an unlike observation before it: it began at its first
    assert last_fresh is not None and (last_fresh.first.observed_at, last_fresh.last.observed_at) == (
        at[2],
        at[3],
    )
    await state.prune(records_before=at[2], events_before=NOW, audit_before=NOW)  # the oldest go
    fresh_first = await history.streak(entity, fresh=True)
    assert fresh_first is not None and not fresh_first.whole  # reaches back past what is kept
    assert await history.streak(f"none_{state_url[:6]}") is None
