"""The state store on both dialects: schema migrations, audit log, claims and event dedupe.
The PostgreSQL runs also show what several replicas sharing one database rely on."""

import asyncio
from datetime import UTC, datetime, timedelta

from bot.state.store import AuditEntry, SqlState


async def test_migrations_bring_the_schema_to_head_once(state_url: str) -> None:
    state = SqlState(state_url)
    try:
        head = (await state.migrate()).head
        again = await state.migrate()  # a second start changes nothing
        assert (again.before, again.head) == (head, head)
        status = await state.schema_status()
        assert (status.current, status.head, status.known) == (head, head, True)
    finally:
        await state.close()


async def test_replicas_starting_together_migrate_safely(state_url: str) -> None:
    replicas = [SqlState(state_url) for _ in range(4)]
    try:
        if replicas[0].dialect == "sqlite":
            # One SQLite file is one process's store; serial starts are what matters there.
            results = [await r.migrate() for r in replicas]
        else:
            results = await asyncio.gather(*(r.migrate() for r in replicas))
        assert len({r.head for r in results}) == 1
    finally:
        for replica in replicas:
            await replica.close()


async def test_audit_log_keeps_who_what_where_and_outcome(state_url: str) -> None:
    state = SqlState(state_url)
    await state.migrate()
    try:
        at = datetime.now(UTC)
        await state.record_audit(AuditEntry(at, "U1", "C1", "run", "run payment", "ok", 12, {"run_id": "r1"}))
        await state.record_audit(AuditEntry(at, "U2", "C2", "stats", "stats", "usage", 1, {}))
        newest, oldest = await state.recent_audit()
        assert (newest.user_id, newest.command, newest.outcome) == ("U2", "stats", "usage")
        assert oldest.detail == {"run_id": "r1"} and oldest.at.tzinfo is not None
        assert [e.command for e in await state.recent_audit(command="run")] == ["run"]
    finally:
        await state.close()


async def test_a_claim_is_won_by_exactly_one_replica(state_url: str) -> None:
    replicas = [SqlState(state_url) for _ in range(3)]
    for replica in replicas:
        await replica.migrate()
    try:
        won = await asyncio.gather(*(r.claim("digest:payments:2026-11-26T08") for r in replicas))
        assert sorted(won) == [False, False, True]
        await replicas[0].release("digest:payments:2026-11-26T08")
        assert await replicas[1].claim("digest:payments:2026-11-26T08")
    finally:
        for replica in replicas:
            await replica.close()


async def test_events_are_handled_once_and_forgotten_later(state_url: str) -> None:
    state = SqlState(state_url)
    await state.migrate()
    try:
        assert await state.first_time("Ev1")
        assert not await state.first_time("Ev1")  # Slack's retry of the same event
        soon, long_ago = datetime.now(UTC) + timedelta(seconds=1), datetime(2000, 1, 1, tzinfo=UTC)
        pruned = await state.prune(records_before=long_ago, events_before=soon, audit_before=long_ago)
        assert pruned["events"] == 1
        assert await state.first_time("Ev1")
    finally:
        await state.close()
