"""The state schema under Alembic: stores made by the hand-rolled migrations (versions 1–6) upgrade in
place, and three `amd-bot db upgrade` processes started together on one PostgreSQL migrate once."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text

from bot.foundation.ports import BackendUnavailable
from bot.state import migrate
from bot.state.schema import schema_version
from bot.state.store import SqlState
from tests.support.legacy_state import V5_COLUMNS, hand_rolled_store
from tests.support.postgres import scratch_database

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'state.db'}"
        return
    async for url in scratch_database("amd_revisions"):
        yield url


async def test_a_hand_rolled_store_at_version_4_upgrades_in_place(empty_url: str) -> None:
    state = SqlState(empty_url)
    try:
        async with state.engine.begin() as conn:
            await conn.run_sync(hand_rolled_store, 4)
        assert (await state.schema_status()).current == "0004"  # read from the old table

        done = await state.migrate()

        assert (done.before, done.head) == ("0004", (await state.schema_status()).current)
        async with state.engine.connect() as conn:
            columns = await conn.run_sync(
                lambda c: {col["name"] for col in inspect(c).get_columns("amd_live_cards")}
            )
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
            old = (await conn.execute(select(schema_version.c.version))).scalars().all()
        assert set(V5_COLUMNS) <= columns  # revision 0005 ran
        assert {"amd_replicas", "amd_held_work", "amd_dbt_slots"} <= tables  # and 0006 (and any later)
        assert sorted(old) == [1, 2, 3, 4]  # left as it was, for a replica of the old code still running
    finally:
        await state.close()


async def test_a_hand_rolled_store_at_version_6_is_stamped_and_keeps_its_data(empty_url: str) -> None:
    state = SqlState(empty_url)
    try:
        async with state.engine.begin() as conn:
            await conn.run_sync(hand_rolled_store, 6)
            await conn.execute(
                text("INSERT INTO amd_claims (key, at, holder) VALUES ('kept', :at, 'old')"),
                {"at": datetime.now(UTC)},
            )

        done = await state.migrate()

        assert (done.before, done.head) == ("0006", migrate.head())
        assert not await state.claim("kept")  # the data is where it was
    finally:
        await state.close()


async def test_a_store_newer_than_the_code_is_not_touched_and_says_so(empty_url: str) -> None:
    state = SqlState(empty_url)
    try:
        await state.migrate()
        async with state.engine.begin() as conn:
            await conn.execute(text(f"UPDATE {migrate.VERSION_TABLE} SET version_num = '0099'"))
        status = await state.schema_status()
        assert (status.current, status.known) == ("0099", False)
        with pytest.raises(BackendUnavailable, match="revision 0099, which this amd-bot does not know"):
            await state.migrate()
    finally:
        await state.close()


@pytest.mark.postgres
async def test_three_processes_upgrading_at_once_migrate_once() -> None:
    async for url in scratch_database("amd_revisions"):
        env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "AMD_STATE_URL": url}
        procs = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot.cli",
                "db",
                "upgrade",
                env=env,
                cwd=ROOT,
                stdout=asyncio.subprocess.PIPE,
            )
            for _ in range(3)
        ]
        outputs = [(await p.communicate())[0].decode().strip() for p in procs]

        assert [p.returncode for p in procs] == [0, 0, 0], outputs
        said = sorted(line.rsplit(": ", 1)[1] for line in outputs)
        head = migrate.head()
        assert said == [f"already at {head} (head)", f"already at {head} (head)", f"empty → {head} (head)"]
        state = SqlState(url)
        try:
            assert (await state.schema_status()).current == head
        finally:
            await state.close()
