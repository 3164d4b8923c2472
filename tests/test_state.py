"""The state store on both dialects: schema migrations, audit log, claims and event dedupe.
The PostgreSQL runs also show what several replicas sharing one database rely on."""

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, inspect, select, text

from bot.state.schema import schema_version
from bot.state.store import AuditEntry, SqlState
from bot.state.versions import MIGRATIONS


async def test_migrations_apply_once_and_record_their_versions(state_url: str) -> None:
    state = SqlState(state_url)
    try:
        latest = MIGRATIONS[-1].version
        assert await state.migrate() == latest
        assert await state.migrate() == latest  # a second start changes nothing
        async with state.engine.connect() as conn:
            versions = (await conn.execute(select(schema_version.c.version))).scalars().all()
        assert sorted(versions) == [m.version for m in MIGRATIONS]
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
        assert len(set(results)) == 1
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


async def test_a_store_from_before_version_5_gains_the_live_card_columns(state_url: str) -> None:
    state = SqlState(state_url)
    try:
        await state.migrate()
        async with state.engine.begin() as conn:  # back to the shape version 4 left behind
            for column in ("lease_until", "not_before", "retired"):
                await conn.execute(text(f'ALTER TABLE amd_live_cards DROP COLUMN "{column}"'))
            await conn.execute(delete(schema_version).where(schema_version.c.version == 5))

        assert await state.migrate() == MIGRATIONS[-1].version
        async with state.engine.connect() as conn:
            columns = await conn.run_sync(
                lambda c: {col["name"] for col in inspect(c).get_columns("amd_live_cards")}
            )
        assert {"lease_until", "not_before", "retired"} <= columns
    finally:
        await state.close()
