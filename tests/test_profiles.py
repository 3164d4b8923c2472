"""The warehouse connection comes from the project's dbt profile, read as dbt reads it, so a team does
not configure credentials twice. Snowflake profiles (password and key-pair) are turned into connection
arguments and used against fakesnow's server through the real connector."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import snowflake.connector
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fakesnow import (
    server as fakesnow_server,  # the function: calling it rebinds `fakesnow.server` to its module
)

from bot.adapters.dbt.project import ProjectError, with_profile
from bot.adapters.warehouse.snowflake import SnowflakeWarehouse
from bot.core.stats import EntityStatus, StatsService
from bot.foundation.catalog import Catalog
from bot.foundation.settings import Settings

PASSWORD = "s3cret-from-the-profile"
PASSPHRASE = "key-passphrase-from-env"

pytestmark = pytest.mark.filterwarnings("ignore:Arrow output on a DB-API result:UserWarning")


def project(root: Path, profiles: str) -> Path:
    """A dbt project dir with its own profiles.yml, as many teams keep it."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "dbt_project.yml").write_text("name: team\nconfig-version: 2\nprofile: team\n")
    (root / "profiles.yml").write_text(textwrap.dedent(profiles))
    return root


def settings_for(project_dir: Path, **overrides: Any) -> Settings:
    # Not isolated_settings: it sets AMD_WAREHOUSE explicitly, and here the profile must choose it.
    values = {"home": project_dir.parent / "home", "dbt_project_dir": project_dir, **overrides}
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


# --- DuckDB ---------------------------------------------------------------------------------------------


DUCKDB = """
    team:
      target: "{{ env_var('TEAM_TARGET', 'dev') }}"
      outputs:
        dev:
          type: duckdb
          path: "{{ env_var('TEAM_DATA', 'data') }}/team.duckdb"
        prod:
          type: duckdb
          path: "{{ env_var('PROD_DUCKDB') }}"
        pg:
          type: postgres
          host: localhost
"""


def test_a_relative_duckdb_path_is_resolved_from_the_project_dir_as_dbt_does(tmp_path: Path) -> None:
    settings = with_profile(settings_for(project(tmp_path / "team", DUCKDB)))

    assert settings.warehouse == "duckdb"
    assert settings.warehouse_path == tmp_path / "team" / "data" / "team.duckdb"


def test_env_var_and_the_target_are_read_like_dbt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEAM_TARGET", "prod")
    monkeypatch.setenv("PROD_DUCKDB", "/srv/warehouse/prod.duckdb")

    assert with_profile(settings_for(project(tmp_path / "team", DUCKDB))).duckdb_path == Path(
        "/srv/warehouse/prod.duckdb"
    )


def test_a_missing_env_var_is_named(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match=r"target `prod` .* needs the environment variable PROD_DUCKDB"):
        with_profile(settings_for(project(tmp_path / "team", DUCKDB), dbt_target="prod"))


def test_an_unsupported_adapter_names_what_is_supported(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="uses the `postgres` adapter; amd-bot reads duckdb and snowflake"):
        with_profile(settings_for(project(tmp_path / "team", DUCKDB), dbt_target="pg"))


def test_explicit_settings_override_the_profile(tmp_path: Path) -> None:
    mine = tmp_path / "elsewhere.duckdb"
    team = project(tmp_path / "team", DUCKDB)

    assert with_profile(settings_for(team, duckdb_path=mine)).warehouse_path == mine
    # Configured completely without it, an unusable profile is no reason not to start.
    assert with_profile(settings_for(team, dbt_target="pg", duckdb_path=mine)).warehouse_path == mine


# --- Snowflake, on fakesnow ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fake_snowflake() -> Iterator[dict[str, Any]]:
    with fakesnow_server() as server:
        conn = snowflake.connector.connect(**server)
        with conn, conn.cursor() as cur:
            cur.execute("CREATE DATABASE analytics")
            cur.execute("CREATE SCHEMA analytics.marts")
            cur.execute("CREATE TABLE analytics.marts.orders (id INT)")
            cur.execute("INSERT INTO analytics.marts.orders VALUES (1), (2), (3)")
        yield server


def snowflake_profile(server: dict[str, Any], auth: str) -> str:
    return f"""
        team:
          target: prod
          outputs:
            prod:
              type: snowflake
              account: "{{{{ env_var('SF_ACCOUNT') }}}}"
              user: "{server["user"]}"
              role: transformer
              warehouse: transforming
              database: analytics
              schema: marts
              host: "{server["host"]}"
              port: {server["port"]}
              protocol: "{server["protocol"]}"
              threads: 4
{textwrap.indent(textwrap.dedent(auth), " " * 14)}
            dev:  # never rendered: this environment has none of its variables
              type: snowflake
              password: "{{{{ env_var('DEV_ONLY_SECRET') }}}}"
    """


def rsa_key(passphrase: str) -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    encryption = serialization.BestAvailableEncryption(passphrase.encode())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


ORDERS = {  # the manifest's node of a model with no `meta`: no load column, no build on record
    "resource_type": "model",
    "name": "orders",
    "package_name": "team",
    "database": "analytics",
    "schema": "marts",
    "alias": "orders",
    "config": {"materialized": "table"},
}


async def orders_of(settings: Settings) -> EntityStatus:
    manifest = {"metadata": {"project_name": "team"}, "nodes": {"model.team.orders": ORDERS}}
    catalog = Catalog.from_manifest(manifest, {})
    warehouse = SnowflakeWarehouse(settings.model_copy(update={"snowflake_network_timeout_s": 10.0}))
    try:
        (status,) = await StatsService(warehouse, ttl_s=0).status(list(catalog.entities.values()))
    finally:
        await warehouse.close()
    return status


@pytest.fixture
def sf_account(monkeypatch: pytest.MonkeyPatch, fake_snowflake: dict[str, Any]) -> None:
    monkeypatch.setenv("SF_ACCOUNT", fake_snowflake["account"])


@pytest.mark.usefixtures("sf_account")
async def test_a_password_profile_connects(tmp_path: Path, fake_snowflake: dict[str, Any]) -> None:
    auth = f"password: \"{{{{ env_var('DBT_ENV_SECRET_PASSWORD', '{PASSWORD}') }}}}\""
    settings = with_profile(settings_for(project(tmp_path / "team", snowflake_profile(fake_snowflake, auth))))

    assert (settings.warehouse, settings.snowflake_account, settings.snowflake_role) == (
        "snowflake",
        "fakesnow",
        "transformer",
    )
    assert (settings.snowflake_database, settings.snowflake_schema, settings.snowflake_port) == (
        "analytics",
        "marts",
        fake_snowflake["port"],
    )
    assert settings.snowflake_password is not None
    assert settings.snowflake_password.get_secret_value() == PASSWORD
    assert PASSWORD not in repr(settings) and PASSWORD not in str(settings.model_dump())
    orders = await orders_of(settings)
    assert orders.rows == 3
    # No load column, no build on record: the information schema's LAST_ALTERED (fakesnow: the epoch).
    assert orders.source == "last altered"
    assert orders.last_loaded_at is not None and orders.last_loaded_at.year == 1970


@pytest.mark.usefixtures("sf_account")
async def test_a_key_pair_profile_connects_with_a_key_file(
    tmp_path: Path, fake_snowflake: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    team = tmp_path / "team"
    (team / "keys").mkdir(parents=True)
    (team / "keys" / "bot.p8").write_bytes(rsa_key(PASSPHRASE))
    monkeypatch.setenv("SF_KEY_PASSPHRASE", PASSPHRASE)
    auth = """
        private_key_path: keys/bot.p8
        private_key_passphrase: "{{ env_var('SF_KEY_PASSPHRASE') }}"
    """
    settings = with_profile(settings_for(project(team, snowflake_profile(fake_snowflake, auth))))

    assert settings.snowflake_private_key_file == team / "keys" / "bot.p8"
    assert settings.snowflake_password is None
    assert (await orders_of(settings)).rows == 3


@pytest.mark.usefixtures("sf_account")
async def test_a_key_pair_profile_connects_with_the_key_inline(
    tmp_path: Path, fake_snowflake: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SF_PRIVATE_KEY", rsa_key(PASSPHRASE).decode())
    auth = f"""
        private_key: "{{{{ env_var('SF_PRIVATE_KEY') }}}}"
        private_key_passphrase: {PASSPHRASE}
    """
    settings = with_profile(settings_for(project(tmp_path / "team", snowflake_profile(fake_snowflake, auth))))

    assert settings.snowflake_private_key is not None
    assert "PRIVATE KEY" not in repr(settings)
    assert (await orders_of(settings)).rows == 3
