"""One contract, every Warehouse adapter: DuckDB on the demo file, Snowflake through the real connector
against fakesnow's server loaded with the same entity rows (the latest ones of each entity, so last-load
times and the stale entity are the same on both).

fakesnow's server returns a NULL timestamp as 1970-01-01 (its Arrow conversion drops the null mask), so
the contract only uses non-empty tables; the NULL cases are checked on DuckDB alone below.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
import snowflake.connector
from fakesnow import (
    server as fakesnow_server,  # the function: calling it rebinds `fakesnow.server` to its module
)
from pydantic import SecretStr

from bot.adapters.warehouse.duckdb import DuckDBWarehouse
from bot.adapters.warehouse.snowflake import SnowflakeWarehouse, quote_ident
from bot.adapters.warehouse.sql import quote
from bot.foundation.ports import BackendUnavailable, Relation, StatsQuery, Warehouse
from bot.foundation.settings import Settings
from tests.support.blackhole import black_hole
from tests.support.demo import copy_entities_to_snowflake, entity_queries, isolated_settings

SECRET = "hunter2-do-not-show"
WEIRD = Relation(None, "amd", 'weird "quoted" %s name')
WEIRD_LOAD = 'load "at"'
WEIRD_DDL = f'CREATE OR REPLACE TABLE amd.{quote(WEIRD.name)} ({quote(WEIRD_LOAD)} TIMESTAMP, "Kind" VARCHAR)'
WEIRD_ROWS = [(datetime(2024, 5, 1, 10), "a"), (datetime(2024, 5, 2, 11, 30), "b"), (None, "b")]
SF_DATABASE = "amd_contract"

pytestmark = pytest.mark.filterwarnings("ignore:Arrow output on a DB-API result:UserWarning")


@dataclass
class World:
    """A warehouse under test plus an independent way to ask its backend for the truth."""

    warehouse: DuckDBWarehouse | SnowflakeWarehouse
    queries: list[StatsQuery]
    truth: Callable[[str], list[tuple[Any, ...]]]
    broken: Callable[[], Warehouse]

    def query(self, entity: str) -> StatsQuery:
        return next(q for q in self.queries if q.entity == entity)

    @property
    def weird(self) -> StatsQuery:
        return StatsQuery("weird", replace(WEIRD, database=self.queries[0].relation.database), WEIRD_LOAD)


@pytest.fixture(scope="session")
def duckdb_file(demo_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    # A copy with the same file name (DuckDB names the database after it) that may carry extra tables.
    path = tmp_path_factory.mktemp("duckdb-contract") / demo_settings.warehouse_path.name
    shutil.copy(demo_settings.warehouse_path, path)
    with duckdb.connect(str(path)) as con:
        con.execute(WEIRD_DDL)
        con.executemany(f"INSERT INTO amd.{quote(WEIRD.name)} VALUES (?, ?)", WEIRD_ROWS)
        con.execute("CREATE TABLE amd.empty_entity (loaded_at TIMESTAMP)")
    return path


@pytest.fixture(scope="session")
def snowflake_settings(demo_settings: Settings, duckdb_file: Path) -> Iterator[Settings]:
    with fakesnow_server() as server:
        conn = snowflake.connector.connect(**server, paramstyle="pyformat")
        with conn, conn.cursor() as cur:
            copy_entities_to_snowflake(cur, duckdb_file, entity_queries(demo_settings), SF_DATABASE)
            cur.execute(WEIRD_DDL)
            cur.executemany(f"INSERT INTO amd.{quote(WEIRD.name)} VALUES (%s, %s)", WEIRD_ROWS[:2])
        yield isolated_settings(
            demo_settings.home,
            warehouse="snowflake",
            snowflake_account=server["account"],
            snowflake_user=server["user"],
            snowflake_password=server["password"],
            snowflake_host=server["host"],
            snowflake_port=server["port"],
            snowflake_protocol=server["protocol"],
            snowflake_database=SF_DATABASE,
            snowflake_schema="amd",
        )


def sql_name(relation: Relation) -> str:
    return ".".join(f'"{part}"' for part in (relation.database, relation.schema, relation.name) if part)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def duckdb_world(path: Path, demo_settings: Settings) -> World:
    def truth(sql: str) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(path), read_only=True) as con:
            return con.execute(sql).fetchall()

    def broken() -> Warehouse:
        return DuckDBWarehouse(path.parent / "missing" / path.name)

    return World(DuckDBWarehouse(path), entity_queries(demo_settings), truth, broken)


def snowflake_world(settings: Settings, demo_settings: Settings) -> World:
    def truth(sql: str) -> list[tuple[Any, ...]]:
        assert settings.snowflake_password is not None
        conn = snowflake.connector.connect(
            account=settings.snowflake_account,
            user=settings.snowflake_user,
            password=settings.snowflake_password.get_secret_value(),
            host=settings.snowflake_host,
            port=settings.snowflake_port,
            protocol=settings.snowflake_protocol,
            database=SF_DATABASE,
            schema="amd",
            session_parameters={"CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False},
        )
        with conn, conn.cursor() as cur:
            cur.execute(sql)
            return list(cur.fetchall())

    def broken() -> Warehouse:
        bad = settings.model_copy(
            update={
                "snowflake_port": closed_port(),
                "snowflake_password": SecretStr(SECRET),
                "snowflake_network_timeout_s": 5,
            }
        )
        return SnowflakeWarehouse(bad)

    queries = [
        replace(q, relation=replace(q.relation, database=SF_DATABASE)) for q in entity_queries(demo_settings)
    ]
    return World(SnowflakeWarehouse(settings), queries, truth, broken)


@pytest.fixture(params=["duckdb", "snowflake"])
def built_world(request: pytest.FixtureRequest, demo_settings: Settings) -> World:
    if request.param == "duckdb":
        return duckdb_world(request.getfixturevalue("duckdb_file"), demo_settings)
    return snowflake_world(request.getfixturevalue("snowflake_settings"), demo_settings)


@pytest.fixture
async def world(built_world: World) -> AsyncIterator[World]:
    yield built_world
    await built_world.warehouse.close()


def utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.replace(tzinfo=UTC)


async def test_entity_stats_equal_the_counted_truth(world: World) -> None:
    stats = await world.warehouse.entity_stats(world.queries)

    assert [s.entity for s in stats] == ["user", "purchase", "payment", "delivery_address"]
    for stat, query in zip(stats, world.queries, strict=True):
        ((rows, last),) = world.truth(f"SELECT COUNT(*), MAX(loaded_at) FROM {sql_name(query.relation)}")
        assert stat.rows == rows > 0
        assert stat.last_loaded_at == utc(last)
        assert stat.last_loaded_at is not None
        assert stat.last_loaded_at.tzinfo == UTC


async def test_all_entities_cost_one_query(world: World) -> None:
    before = world.warehouse.queries

    await world.warehouse.entity_stats(world.queries)

    assert world.warehouse.queries - before == 1


async def test_only_delivery_address_misses_its_sla(world: World, demo_settings: Settings) -> None:
    manifest = demo_settings.manifest_path.read_text()
    sla = {q.entity: _meta(manifest, q.entity)["freshness_sla_hours"] for q in world.queries}
    now = datetime.now(UTC)

    stats = await world.warehouse.entity_stats(world.queries)

    late = {
        s.entity
        for s in stats
        if s.last_loaded_at and now - s.last_loaded_at > timedelta(hours=sla[s.entity])
    }
    assert late == {"delivery_address"}


async def test_daily_volume_is_zero_filled_per_utc_day(world: World) -> None:
    query = world.query("delivery_address")

    volume = await world.warehouse.daily_volume(query, 30)

    today = datetime.now(UTC).date()
    assert [v.day for v in volume] == [today - timedelta(days=29 - i) for i in range(30)]
    assert [v.rows for v in volume[-3:]] == [0, 0, 0]  # the address feed stopped ~3 days ago
    start = f"TIMESTAMP '{volume[0].day} 00:00:00'"
    ((truth,),) = world.truth(f"SELECT COUNT(*) FROM {sql_name(query.relation)} WHERE loaded_at >= {start}")
    assert sum(v.rows for v in volume) == truth > 0


async def test_identifiers_are_quoted_not_trusted(world: World) -> None:
    (stat,) = await world.warehouse.entity_stats([world.weird])
    by_kind = await world.warehouse.count_rows(world.weird.relation, "Kind")
    sample = await world.warehouse.sample_rows(world.weird.relation, 10)

    assert stat.rows == sum(by_kind.values()) == len(sample.rows)
    assert stat.last_loaded_at == datetime(2024, 5, 2, 11, 30, tzinfo=UTC)
    assert by_kind["a"] == 1
    assert [c.lower() for c in sample.columns] == [WEIRD_LOAD, "kind"]


async def test_sample_and_count_rows(world: World) -> None:
    payment = world.query("payment").relation
    ((total,),) = world.truth(f"SELECT COUNT(*) FROM {sql_name(payment)}")

    sample = await world.warehouse.sample_rows(payment, 5)
    by_status = await world.warehouse.count_rows(payment, "status")

    assert len(sample.rows) == 5
    assert {"payment_id", "amount_cents", "loaded_at"} <= {c.lower() for c in sample.columns}
    assert await world.warehouse.count_rows(payment) == {"": total}
    assert set(by_status) <= {"captured", "refunded"}
    assert sum(by_status.values()) == total


async def test_unreachable_backend_is_unavailable_without_secrets(world: World) -> None:
    broken = world.broken()

    with pytest.raises(BackendUnavailable) as raised:
        await broken.entity_stats(world.queries)

    assert str(raised.value)
    assert SECRET not in str(raised.value)
    await broken.close()


# --- Snowflake only ------------------------------------------------------------------------------


def test_snowflake_quotes_identifiers_as_dbt_created_them() -> None:
    assert quote_ident("payment") == '"PAYMENT"'  # dbt-snowflake created it unquoted
    assert quote_ident("Kind") == '"Kind"'
    assert quote_ident('weird "q" %s') == '"weird ""q"" %s"'


async def test_a_snowflake_that_never_answers_is_unavailable_within_the_network_timeout(
    snowflake_settings: Settings,
) -> None:
    async with black_hole() as port:
        silent = snowflake_settings.model_copy(
            update={"snowflake_port": port, "snowflake_network_timeout_s": 1}
        )
        warehouse = SnowflakeWarehouse(silent)
        try:
            async with asyncio.timeout(20):  # the connector retries its login until the timeout
                with pytest.raises(BackendUnavailable, match="cannot connect to Snowflake"):
                    await warehouse.entity_stats([StatsQuery("user", Relation(None, "amd", "user"), None)])
        finally:
            await warehouse.close()


# --- DuckDB only ---------------------------------------------------------------------------------


async def test_a_duckdb_query_over_its_time_limit_is_interrupted(tmp_path: Path) -> None:
    path = tmp_path / "slow.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE amd_ok AS SELECT 1 AS n")
        # A scan that never finds its row: runs for hours unless interrupted.
        con.execute("CREATE VIEW never AS SELECT i FROM range(9223372036854775807) t(i) WHERE hash(i) = 1")
    warehouse = DuckDBWarehouse(path, timeout_s=0.5)

    started = time.monotonic()
    with pytest.raises(BackendUnavailable, match=r"did not finish within 0\.5 s .*AMD_DUCKDB_TIMEOUT_S"):
        await warehouse.sample_rows(Relation(None, "main", "never"), 1)

    assert time.monotonic() - started < 5
    assert await warehouse.count_rows(Relation(None, "main", "amd_ok")) == {"": 1}  # the next one runs


async def test_duckdb_reports_null_load_times_as_none(duckdb_file: Path) -> None:
    warehouse = DuckDBWarehouse(duckdb_file)
    empty = StatsQuery("empty", Relation(duckdb_file.stem, "amd", "empty_entity"), "loaded_at")
    unloaded = StatsQuery("no_load_column", Relation(duckdb_file.stem, "amd", "empty_entity"), None)

    stats = await warehouse.entity_stats([empty, unloaded])

    assert [(s.rows, s.last_loaded_at) for s in stats] == [(0, None), (0, None)]


@pytest.fixture
def writer_holding(duckdb_file: Path) -> Iterator[Callable[[float], None]]:
    """Starts a process that holds DuckDB's write lock on the file, as `dbt run` does."""
    procs: list[subprocess.Popen[bytes]] = []

    def hold(seconds: float) -> None:
        code = f"import duckdb, time; c = duckdb.connect({str(duckdb_file)!r}); print('held', flush=True); "
        proc = subprocess.Popen(
            [sys.executable, "-c", code + f"time.sleep({seconds})"], stdout=subprocess.PIPE
        )
        procs.append(proc)
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"held"

    yield hold
    for proc in procs:
        proc.kill()
        proc.wait()


async def test_duckdb_waits_for_a_writer_then_reads(
    duckdb_file: Path, writer_holding: Callable[[float], None]
) -> None:
    writer_holding(1.0)
    warehouse = DuckDBWarehouse(duckdb_file, busy_timeout_s=10)

    assert (await warehouse.count_rows(Relation(duckdb_file.stem, "amd", "empty_entity")))[""] == 0


async def test_duckdb_busy_too_long_is_unavailable(
    duckdb_file: Path, writer_holding: Callable[[float], None]
) -> None:
    writer_holding(30)
    warehouse = DuckDBWarehouse(duckdb_file, busy_timeout_s=0.5)

    with pytest.raises(BackendUnavailable, match="busy with a dbt run"):
        await warehouse.count_rows(Relation(duckdb_file.stem, "amd", "empty_entity"))


def _meta(manifest: str, entity: str) -> dict[str, Any]:
    node: dict[str, Any] = json.loads(manifest)["nodes"][f"model.amd.{entity}"]
    return dict(node["config"]["meta"])
