"""Issue 22's root cause end to end, against the suite's real Airflow 3: a failed run, its failing test
and the entity downstream that went stale because of it are one top-level message, three lines in its
thread: the test, the stale entity, and the recovery once a run succeeds again.

The run is the DAG factory's `amd_payment` (deploy/composer/dag_factory.py, as on Composer): `run_payment`
builds `payment`, `test_payment` fails on the demo's negative amounts, so `run_payment_daily` never
builds the entity `payment_daily` downstream (tests/support/airflow.py), last loaded three days ago
against its 24 h SLA. The bot reads what an operator's would: Airflow's runs, the dbt results the tasks
kept (AMD_DBT_RESULTS_DIR), the warehouse they write, and the project's manifest for the lineage. Its
one route takes only the DAG's incidents, and tells only failed runs at once (the default kinds): the
test and the stale entity are lines because the lineage explains them, not because they alert.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import pytest
from pydantic import SecretStr

from bot.adapters.orchestrator.airflow import AirflowOrchestrator
from bot.foundation.alert_routes import AlertRoute
from bot.foundation.ports import RunState
from bot.foundation.settings import Settings
from tests.support.airflow import AirflowServer, FactoryProject
from tests.support.bot import BotHarness, running_bot
from tests.test_alerts import text_of
from tests.test_alerts_airflow_story import buttons, tick
from tests.test_alerts_threads import top_level
from tests.test_cmd_run import airflow_settings
from tests.test_orchestrator_airflow import follow, new_run_id

pytestmark = pytest.mark.airflow

OPS = AlertRoute(name="ops", channel="C_OPS", dags=["amd_payment"])
TEST = "non_negative_payment_amount_cents"


def factory_of(server: AirflowServer) -> FactoryProject:
    assert server.factory is not None, "the suite's Airflow 3 has the DAG factory's project"
    return server.factory


async def run(bot: BotHarness) -> RunState:
    """A run of the factory's DAG, followed to its end: dbt twice or four times, slow on a loaded machine."""
    orchestrator = bot.backends.orchestrator
    assert isinstance(orchestrator, AirflowOrchestrator)
    started = await orchestrator.trigger("amd_payment", new_run_id("amd_payment"), {}, None)
    return await follow(orchestrator, started.ref, timeout_s=300)


def thread_of(bot: BotHarness, root: dict[str, Any]) -> list[str]:
    """The thread's lines as Slack has them (each line's text, the same as its one section's)."""
    return [m["text"] for m in bot.slack.messages("C_OPS") if m.get("thread_ts") == root["ts"]]


@pytest.fixture
async def bot(bot_settings: Settings, airflow_server: AirflowServer) -> AsyncIterator[BotHarness]:
    project = factory_of(airflow_server)
    shutil.copy(bot_settings.warehouse_path, project.warehouse)
    with duckdb.connect(str(project.warehouse)) as db:  # built three days ago, when the test last passed
        db.execute(
            "CREATE OR REPLACE TABLE amd.payment_daily AS SELECT 1 AS payments, ?::TIMESTAMP AS loaded_at",
            [(datetime.now(UTC) - timedelta(days=3)).replace(tzinfo=None)],
        )
    settings = airflow_settings(bot_settings, airflow_server).model_copy(
        update={
            "duckdb_path": project.warehouse,
            "dbt_manifest": project.project_dir / "target" / "manifest.json",
            "dbt_results_dir": project.results,
            "alert_routes": [OPS],
        }
    )
    async with running_bot(settings) as harness:
        harness.backends.orchestrator = AirflowOrchestrator.with_password(
            airflow_server.url, airflow_server.username, SecretStr(airflow_server.password)
        )
        yield harness
        await harness.backends.orchestrator.close()


async def test_a_failed_run_its_failing_test_and_the_stale_entity_downstream_are_one_message_and_its_thread(
    bot: BotHarness, airflow_server: AirflowServer
) -> None:
    # 1. The run fails on its test: one message for the root cause, counting what it explains.
    failed = await run(bot)
    assert failed.state == "failed", failed
    await tick(bot)
    (alert,) = top_level(bot)
    shown = text_of(alert)
    assert f"DAG `amd_payment` failed (run `{failed.run_id}`): `test_payment`" in shown, shown
    assert "+ 2 downstream findings" in shown, shown
    assert buttons(alert)
    lines = thread_of(bot, alert)
    assert len(lines) == 2, lines
    caused = "(caused by `run:amd_payment`)"
    test_line, stale_line = sorted(lines, key=lambda line: "stale" in line)
    assert test_line == f"↳ also test `{TEST}` failed (7 failing rows) {caused}", lines
    assert re.fullmatch(
        rf"↳ also `payment_daily` is stale: last load .+ ago \(SLA 24 h\) {re.escape(caused)}", stale_line
    )
    assert await tick(bot) == [], "told once: a tick later, nothing more"

    # 2. The data is fixed and the DAG succeeds: the same message recovered, the third and last line.
    with duckdb.connect(str(factory_of(airflow_server).warehouse)) as db:
        db.execute("DELETE FROM raw.events WHERE event_type = 'payment_captured' AND amount_cents < 0")
    fixed = await run(bot)
    assert fixed.state == "success", fixed
    await tick(bot)
    (recovered,) = top_level(bot)
    assert recovered["ts"] == alert["ts"] and "✓ recovered" in text_of(recovered)
    assert not buttons(recovered)
    lines = thread_of(bot, alert)
    assert sorted(lines[:2]) == sorted([test_line, stale_line]), lines
    assert len(lines) == 3 and "✓ recovered at" in lines[2] and f"by run `{fixed.run_id}`" in lines[2], lines
