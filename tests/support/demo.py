"""The demo world, built once per test session into a temporary AMD_HOME.

Import the fixture where it is needed (tests/conftest.py does):
`from tests.support.demo import demo_settings`.
Settings are given explicitly so the developer's own environment and `.env` cannot leak into tests.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import duckdb
import pytest
from snowflake.connector.cursor import SnowflakeCursor

from bot.foundation.ports import Relation, StatsQuery
from bot.foundation.settings import Settings
from demo.world import ensure_demo

ENTITIES = ("user", "purchase", "payment", "delivery_address")


def isolated_settings(home: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "home": home,
        "warehouse": "duckdb",
        "duckdb_path": None,
        "dbt_manifest": None,
        "dbt_executable": "dbt",
        "orchestrator": "local",
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def process_env(settings: Settings, state_url: str, **variables: str) -> dict[str, str]:
    """A clean environment for an `amd-bot` process on the demo world `settings` built (so nothing is
    built again): only PATH is inherited, so the developer's own AMD_*/SLACK_* variables cannot leak in."""
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(settings.home),
        "AMD_HOME": str(settings.home),
        "AMD_DUCKDB_PATH": str(settings.warehouse_path),
        "AMD_DBT_MANIFEST": str(settings.manifest_path),
        "AMD_STATE_URL": state_url,
        **variables,
    }


@pytest.fixture(scope="session")
async def demo_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = isolated_settings(tmp_path_factory.mktemp("amd-home"))
    await ensure_demo(settings)
    return settings


def entity_queries(settings: Settings) -> list[StatsQuery]:
    """StatsQuery per entity straight from the manifest, the way the catalog builds them."""
    manifest = json.loads(settings.manifest_path.read_text())
    queries = []
    for node in manifest["nodes"].values():
        meta = node["config"].get("meta", {})
        if node["resource_type"] == "model" and meta.get("entity"):
            relation = Relation(node["database"], node["schema"], node["alias"])
            queries.append(StatsQuery(node["name"], relation, meta.get("loaded_at_field")))
    return sorted(queries, key=lambda q: ENTITIES.index(q.entity))


_SNOWFLAKE_TYPES = {"BIGINT": "NUMBER", "INTEGER": "NUMBER", "TIMESTAMP": "TIMESTAMP_NTZ"}


def copy_entities_to_snowflake(
    cursor: SnowflakeCursor, source: Path, queries: Sequence[StatsQuery], database: str, rows: int = 400
) -> None:
    """Copy the latest `rows` rows of each entity from the demo DuckDB into Snowflake (fakesnow).

    The latest rows keep each entity's last load time, so the stale entity is stale there too.
    The cursor must bind client-side (pyformat): fakesnow's server mis-converts NULLs in bound
    timestamp arrays.
    """
    cursor.execute(f"CREATE DATABASE IF NOT EXISTS {database}")
    cursor.execute(f"USE DATABASE {database}")
    with duckdb.connect(str(source), read_only=True) as src:
        for query in queries:
            schema, table = query.relation.schema, query.relation.name
            cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            name = f'"{query.relation.database}"."{schema}"."{table}"'
            columns = src.execute(f"DESCRIBE {name}").fetchall()
            ddl = ", ".join(f"{c[0]} {_SNOWFLAKE_TYPES.get(c[1], c[1])}" for c in columns)
            cursor.execute(f"CREATE OR REPLACE TABLE {schema}.{table} ({ddl})")
            order = f"{query.load_column or 1} DESC, 1"
            latest = src.execute(f"SELECT * FROM {name} ORDER BY {order} LIMIT {int(rows)}").fetchall()
            marks = ", ".join("%s" for _ in columns)
            cursor.executemany(f"INSERT INTO {schema}.{table} VALUES ({marks})", latest)
