"""The demo world: a million seeded events, four documented entities, and the two faults on purpose."""

from __future__ import annotations

import json
import shutil
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from bot.adapters.dbt.cli import run_dbt
from bot.foundation.settings import Settings
from demo.events import SEED, generate_events
from demo.world import DEMO_VERSION, PROJECT_DIR, ensure_demo, marker_path
from tests.support.demo import ENTITIES, isolated_settings

TYPE_COUNTS = "SELECT event_type, COUNT(*), SUM(amount_cents) FROM raw.events GROUP BY 1 ORDER BY 1"


def marker(settings: Settings) -> dict[str, Any]:
    return dict(json.loads(marker_path(settings).read_text()))


def read(settings: Settings, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def manifest_nodes(settings: Settings) -> dict[str, Any]:
    return dict(json.loads(settings.manifest_path.read_text())["nodes"])


async def test_world_holds_over_a_million_events_built_quickly(demo_settings: Settings) -> None:
    built = marker(demo_settings)

    ((events,),) = read(demo_settings, "SELECT COUNT(*) FROM raw.events")

    assert events == built["events"] >= 1_000_000
    assert built["version"] == DEMO_VERSION
    assert built["seconds"] < 120


async def test_same_seed_and_time_give_the_same_events(demo_settings: Settings) -> None:
    built = marker(demo_settings)
    with duckdb.connect() as con:
        generate_events(con, now=datetime.fromisoformat(built["built_at"]), seed=built["seed"])
        regenerated = con.execute(TYPE_COUNTS).fetchall()

    assert regenerated == read(demo_settings, TYPE_COUNTS)


def test_another_seed_gives_other_events() -> None:
    now = datetime.fromisoformat("2026-03-04T15:30:00+00:00")

    def summary(seed: int) -> list[tuple[Any, ...]]:
        with duckdb.connect() as con:
            generate_events(con, now=now, seed=seed, days=14)
            return con.execute(TYPE_COUNTS).fetchall()

    assert summary(SEED) == summary(SEED)
    assert summary(SEED) != summary(SEED + 1)


async def test_seven_payments_are_negative(demo_settings: Settings) -> None:
    assert read(demo_settings, "SELECT COUNT(*) FROM amd.payment WHERE amount_cents < 0") == [(7,)]


async def test_delivery_address_stopped_loading_three_days_ago(demo_settings: Settings) -> None:
    built_at = datetime.fromisoformat(marker(demo_settings)["built_at"]).replace(tzinfo=None)
    tables = {
        "user": "users",
        "purchase": "purchase",
        "payment": "payment",
        "delivery_address": "delivery_address",
    }

    last = {e: read(demo_settings, f"SELECT MAX(loaded_at) FROM amd.{t}")[0][0] for e, t in tables.items()}

    assert built_at - last["delivery_address"] > timedelta(hours=72)
    # Within the hour, not minutes: a fifth of the day's events fall at night, so a world built at 06:15
    # may have no user since 06:00 (seen on a CI run); stale is hours past an SLA of 12 or 24.
    for entity in ("user", "purchase", "payment"):
        assert built_at - last[entity] < timedelta(hours=1)


async def test_manifest_documents_the_four_entities(demo_settings: Settings) -> None:
    nodes = manifest_nodes(demo_settings)
    entities = {n["name"]: n for n in nodes.values() if n["config"].get("meta", {}).get("entity")}

    assert set(entities) == set(ENTITIES)
    assert entities["user"]["alias"] == "users"
    for node in entities.values():
        meta = node["config"]["meta"]
        assert {
            "owner",
            "support_channel",
            "freshness_sla_hours",
            "dag",
            "loaded_at_field",
            "aliases",
        } <= set(meta)
        assert meta["dag"] == f"amd_{node['name']}"
        assert meta["loaded_at_field"] == "loaded_at"
        assert node["description"]
        assert all(column["description"] for column in node["columns"].values())
    assert entities["payment"]["config"]["meta"]["owner"] == "payments-team"
    assert entities["delivery_address"]["config"]["meta"]["freshness_sla_hours"] == 24


async def test_manifest_carries_the_tests_with_stored_failures(demo_settings: Settings) -> None:
    tests = {uid: n for uid, n in manifest_nodes(demo_settings).items() if n["resource_type"] == "test"}
    non_negative = [n for n in tests.values() if n["name"] == "non_negative_payment_amount_cents"]

    assert len(tests) >= 20
    assert {n["test_metadata"]["name"] for n in tests.values()} >= {
        "unique",
        "not_null",
        "relationships",
        "accepted_values",
        "non_negative",
    }
    assert len(non_negative) == 1
    assert non_negative[0]["attached_node"] == "model.amd.payment"
    assert non_negative[0]["config"]["store_failures"] is True


async def test_a_second_start_reuses_the_world(demo_settings: Settings) -> None:
    before = marker(demo_settings)
    started = time.monotonic()

    await ensure_demo(demo_settings)

    assert time.monotonic() - started < 0.5
    assert marker(demo_settings) == before


@pytest.mark.slow
async def test_dbt_test_fails_exactly_the_negative_amounts(demo_settings: Settings, tmp_path: Path) -> None:
    # On a copy, so the shared world stays as built.
    database = tmp_path / demo_settings.warehouse_path.name
    shutil.copy(demo_settings.warehouse_path, database)

    proc = await run_dbt(
        ["test", "--select", "payment"],
        project_dir=PROJECT_DIR,
        profiles_dir=PROJECT_DIR,
        target_path=tmp_path / "target",
        log_path=tmp_path / "logs",
        env={"AMD_DEMO_DUCKDB": str(database)},
    )

    results = json.loads(proc.run_results.read_text())["results"]
    failed = [(r["unique_id"].rsplit(".", 1)[0], r["failures"]) for r in results if r["status"] != "pass"]
    assert proc.exit_code == 1
    assert failed == [("test.amd.non_negative_payment_amount_cents", 7)]
    with duckdb.connect(str(database), read_only=True) as con:
        stored = con.execute("SELECT COUNT(*) FROM amd_dbt_test__audit.non_negative_payment_amount_cents")
        assert stored.fetchall() == [(7,)]


@pytest.mark.slow
async def test_an_outdated_world_is_rebuilt_with_progress(tmp_path: Path) -> None:
    settings = isolated_settings(tmp_path)
    marker_path(settings).parent.mkdir(parents=True)
    marker_path(settings).write_text(json.dumps({"version": "0", "built_at": "2020-01-01T00:00:00+00:00"}))
    steps: list[tuple[str, float]] = []

    await ensure_demo(settings, progress=lambda stage, fraction: steps.append((stage, fraction)))

    fractions = [fraction for _, fraction in steps]
    assert fractions == sorted(fractions)
    assert steps[-1] == ("demo world ready", 1.0)
    assert marker(settings)["version"] == DEMO_VERSION
    assert settings.manifest_path.exists()
    assert not (settings.warehouse_path.parent / ".building").exists()
