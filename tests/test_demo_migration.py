"""The demo migration end to end: four dirty legacy exports → amd.delivery_address_history, killed and
resumed, ending with every source row exactly once and in canonical form."""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import signal
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from bot.foundation.migration_specs import default_migrations
from bot.migration.ledger import Ledger, Reporter
from bot.state.store import SqlState
from demo.migration import normalise
from demo.migration.job import NAME, migrate
from demo.migration.sources import SIZES, SourcePaths, ensure_sources, truth

TABLE = "amd.delivery_address_history"


# --- normalising the dirt ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("1067", "DE", "01067"),  # a numeric column dropped the leading zero
        ("D-01067", "DE", "01067"),
        (" 10115 ", "DE", "10115"),
        ("1011ab", "NL", "1011 AB"),
        ("NL-1011 AB", "NL", "1011 AB"),
        ("00950", "PL", "00-950"),
        ("sw1a1aa", "GB", "SW1A 1AA"),
        ("GB-EC1A 1BB", "GB", "EC1A 1BB"),
        ("A-1010", "AT", "1010"),
    ],
)
def test_postcodes_take_their_countrys_format(raw: str, country: str, expected: str) -> None:
    assert normalise.postcode(raw, country) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("de", "DE"), ("DEU", "DE"), ("Germany", "DE"), (" Österreich ", "AT"), ("UNITED KINGDOM", "GB")],
)
def test_country_names_and_codes_become_iso_alpha_2(raw: str, expected: str) -> None:
    assert normalise.country(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "2018-03-04 12:13:14.123000+0000",  # cqlsh
        "2018-03-04T12:13:14.123Z",  # mongoexport, ISO
        1520165594123,  # mongoexport, epoch milliseconds
        "2018-03-04 13:13:14.123 +0100",  # Snowflake TIMESTAMP_TZ, Berlin winter time
        datetime(2018, 3, 4, 12, 13, 14, 123000, tzinfo=UTC),  # Parquet TIMESTAMP
    ],
)
def test_timestamps_become_utc(raw: object) -> None:
    assert normalise.timestamp(raw) == datetime(2018, 3, 4, 12, 13, 14, 123000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("function", "raw"),
    [
        (normalise.timestamp, "2018-03-04 12:13:14"),  # no zone: guessing would shift history
        (normalise.country, "Atlantis"),
        (normalise.postcode, "123456"),
        (normalise.country, "   "),
    ],
)
def test_what_cannot_be_made_canonical_is_refused(function: object, raw: str) -> None:
    arguments = (raw, "DE") if function is normalise.postcode else (raw,)
    with pytest.raises(normalise.DirtyRecord):
        function(*arguments)  # type: ignore[operator]


def test_the_checksum_ignores_order_but_sees_a_doubled_row() -> None:
    rows = truth(sizes={"snowflake": 3})["snowflake"]
    assert normalise.checksum(rows) == normalise.checksum(reversed(rows))
    assert normalise.checksum([*rows, rows[0]]) != normalise.checksum(rows)


# --- the exports -------------------------------------------------------------------------------------


def _digest(files: SourcePaths) -> list[str]:
    return [hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in (files.cassandra, files.mongodb)]


def test_a_seed_always_gives_the_same_exports(tmp_path: Path) -> None:
    small = {"cassandra": 300, "mongodb": 200, "bigquery": 100, "snowflake": 100}
    first = ensure_sources(tmp_path / "a", sizes=small)
    again = ensure_sources(tmp_path / "b", sizes=small)
    assert _digest(first) == _digest(again)
    other = ensure_sources(tmp_path / "c", seed=7, sizes=small)
    assert _digest(other) != _digest(first)


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("exports") / "migration"
    ensure_sources(directory)
    return directory


# --- the copy job ------------------------------------------------------------------------------------


@pytest.fixture
async def ledger(tmp_path: Path) -> AsyncIterator[Ledger]:
    state = SqlState(f"sqlite+aiosqlite:///{tmp_path / 'state.db'}")
    await state.migrate()
    yield Ledger.on(state, default_migrations())
    await state.close()


async def test_a_paused_migration_copies_nothing(sources: Path, tmp_path: Path, ledger: Ledger) -> None:
    await ledger.set_intent(NAME, "pause", by="U1", at=datetime.now(UTC))
    reporter = await Reporter.direct(NAME, str(ledger.store.engine.url), default_migrations())
    job = asyncio.create_task(
        migrate(
            reporter, sources_dir=sources, warehouse=tmp_path / "w.duckdb", table=TABLE, pause_poll_s=0.05
        )
    )
    await asyncio.sleep(1.5)
    progress = await ledger.progress(NAME, now=datetime.now(UTC))
    assert (progress.state, progress.rows, progress.expected) == ("paused", 0, sum(SIZES.values()))
    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await job
    await reporter.close()


def _env(home: Path) -> dict[str, str]:
    """The developer's own AMD_*/SLACK_* settings must not reach the child."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("AMD_", "SLACK_"))}
    return {**keep, "AMD_HOME": str(home), "AMD_DUCKDB_PATH": str(home / "warehouse.duckdb")}


async def _cli(home: Path, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-c", "from bot.cli import main; main()", "demo", "migrate", *args,
        # Not cwd=home: `python -c` puts the cwd on sys.path, and home/demo would shadow the package.
        env=_env(home), cwd=home.parent, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip


async def _finish(proc: asyncio.subprocess.Process) -> tuple[int, str]:
    output, _ = await asyncio.wait_for(proc.communicate(), timeout=240)
    return int(proc.returncode or 0), output.decode()


def _target_rows(warehouse: Path) -> list[tuple[object, ...]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(
            "SELECT source, source_key, user_id, street, city, postcode, country, changed_at "
            f"FROM {TABLE} ORDER BY source, source_key"
        ).fetchall()


@pytest.mark.slow
async def test_killed_twice_and_resumed_the_target_holds_each_source_row_exactly_once(
    sources: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    shutil.copytree(sources, home / "demo" / "migration")  # same seed: the job reuses the exports
    state = SqlState(f"sqlite+aiosqlite:///{home / 'state.db'}")
    ledger = Ledger.on(state, default_migrations())

    # 1. --fail-after: the 31st chunk is written to the target, reported failed, and the job exits 3.
    code, output = await _finish(await _cli(home, "--fail-after", "30"))
    assert code == 3, output
    first = await ledger.progress(NAME, now=datetime.now(UTC))
    assert (sum(s.chunks_ok for s in first.sources), first.failed) == (30, 1)

    # 2. A real kill (SIGKILL, no goodbye) while chunks are moving.
    proc = await _cli(home, "--rate", "20000")
    for _ in range(600):
        await asyncio.sleep(0.05)
        moving = await ledger.progress(NAME, now=datetime.now(UTC))
        if sum(s.chunks_ok for s in moving.sources) >= 36:
            break
    proc.send_signal(signal.SIGKILL)
    await proc.wait()
    assert (await ledger.progress(NAME, now=datetime.now(UTC))).state != "done"

    # 3. The rerun resumes and completes.
    code, output = await _finish(await _cli(home))
    assert code == 0, output
    assert "already in the ledger" in output
    done = await ledger.progress(NAME, now=datetime.now(UTC))
    await state.close()
    assert (done.state, done.rows, done.expected, done.failed, done.valid) == (
        "done",
        200_000,
        200_000,
        0,
        True,
    )
    assert [(s.source, s.rows, s.target_rows, s.checksums_mismatched) for s in done.sources] == [
        (name, SIZES[name], SIZES[name], 0) for name in ("cassandra", "mongodb", "bigquery", "snowflake")
    ]

    # No row lost, none doubled, every one canonical: the target is exactly the seeded history.
    rows = await asyncio.to_thread(_target_rows, home / "warehouse.duckdb")
    expected = sorted(
        (a.source, a.source_key, a.user_id, a.street, a.city, a.postcode, a.country, a.changed_at)
        for history in truth().values()
        for a in history
    )
    assert len(rows) == 200_000
    assert [(*r[:7], normalise.timestamp(r[7])) for r in rows] == expected

    # 4. --reset: the demo can be tried again as written; it starts from nothing, not "done".
    code, output = await _finish(await _cli(home, "--reset", "--fail-after", "30"))
    assert code == 3, output
    assert "already in the ledger" not in output
    state = SqlState(f"sqlite+aiosqlite:///{home / 'state.db'}")
    again = await Ledger.on(state, default_migrations()).progress(NAME, now=datetime.now(UTC))
    await state.close()
    assert (sum(s.chunks_ok for s in again.sources), again.failed) == (30, 1)
    assert len(await asyncio.to_thread(_target_rows, home / "warehouse.duckdb")) < 200_000
