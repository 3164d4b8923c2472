"""Issue 20: a run's conf is checked against the DAG's own params before anything is confirmed.

The params come from the real Airflows' `/dags/{id}/details` (tests/airflow_dags/amd_params.py declares
one of every type) and from the local runner's demo DAGs; the checks are their JSON schemas. A wrong
key or value is answered before the confirmation, so it never reaches Airflow.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.adapters.orchestrator.airflow import AirflowOrchestrator
from bot.foundation.errors import UsageError
from bot.foundation.ports import DagParam
from bot.foundation.settings import Settings
from commands.run.params import check_conf, field_errors
from tests.support.airflow import AirflowServer
from tests.support.bot import running_bot
from tests.support.demo import isolated_settings
from tests.test_cmd_run import Shell, airflow_settings, confirmations

AMD_PARAMS = [
    DagParam("label", "nightly", "A name for the run", {"type": "string", "minLength": 3, "maxLength": 20}),
    DagParam("batch", 3, "Batches to load", {"type": "integer", "minimum": 1, "maximum": 10}),
    DagParam("ratio", 0.5, None, {"type": "number", "minimum": 0, "maximum": 1}),
    DagParam("full_refresh", False, "Rebuild incremental models", {"type": "boolean"}),
    DagParam(
        "region",
        "eu",
        None,
        {
            "type": "string",
            "enum": ["eu", "us", "apac"],
            "values_display": {"eu": "Europe", "us": "United States", "apac": "Asia-Pacific"},
        },
    ),
    DagParam(
        "entities",
        ["user"],
        None,
        {"type": "array", "items": {"type": "string", "enum": ["user", "payment", "purchase"]}},
    ),
    DagParam("as_of", "2026-11-20", None, {"type": "string", "format": "date"}),
    DagParam("vars", {}, "dbt vars as JSON", {"type": "object"}),
]


def by_name(param: DagParam) -> str:
    return param.name


@pytest.mark.airflow
async def test_the_params_read_from_details_are_the_dags_declaration(
    server: AirflowServer, tmp_path: Path
) -> None:
    settings = isolated_settings(
        tmp_path,
        orchestrator="airflow",
        airflow_url=server.url,
        airflow_username=server.username,
        airflow_password=server.password,
    )
    airflow = AirflowOrchestrator.from_settings(settings)
    try:
        params = await airflow.dag_params("amd_params")
        assert sorted(params, key=by_name) == sorted(AMD_PARAMS, key=by_name)
        if server.major == 3:
            assert params == AMD_PARAMS  # Airflow 2's JSON sorts them by name; 3 keeps the DAG's order
        assert await airflow.dag_params("amd_ok") == []
    finally:
        await airflow.close()


@pytest.mark.airflow
async def test_wrong_conf_never_reaches_airflow_and_a_valid_one_triggers_one_run_with_exactly_it(
    bot_settings: Settings, server: AirflowServer
) -> None:
    async with running_bot(airflow_settings(bot_settings, server)) as bot:
        shell = Shell(bot)
        before = await bot.backends.orchestrator.latest_runs(["amd_params"], 100)

        assert "Did you mean `batch`?" in await shell("/amd run amd_params batchs=3")
        assert "`batch`: 12 is greater than the maximum of 10." in await shell("/amd run amd_params batch=12")
        assert "`region`: 'mars' is not one of ['eu', 'us', 'apac']" in await shell(
            "/amd run amd_params region=mars"
        )
        assert "`as_of`: '2026-13-01' is not a 'date'" in await shell("/amd run amd_params as_of=2026-13-01")
        assert "`vars`:" in await shell("/amd run amd_params vars=[1]")
        assert await confirmations(bot) == []

        asked = await shell(
            "/amd run amd_params label=007 batch=4 region=us entities='[\"payment\"]' vars='{\"day\": 1}'"
        )
        assert "Trigger amd_params?" in asked
        await shell("1", "1")  # Trigger, pressed twice

        (row,) = await confirmations(bot)
        conf = {"label": "007", "batch": 4, "region": "us", "entities": ["payment"], "vars": {"day": 1}}
        assert row["conf"] == conf
        after = await bot.backends.orchestrator.latest_runs(["amd_params"], 100)
        new = [r for r in after if r.run_id not in {b.run_id for b in before}]
        assert [(r.run_id, dict(r.conf)) for r in new] == [(row["dag_run_id"], conf)]


async def test_the_local_runner_declares_full_refresh_and_vars_and_checks_them(
    bot_settings: Settings,
) -> None:
    async with running_bot(bot_settings) as bot:
        shell = Shell(bot)
        params = await bot.backends.orchestrator.dag_params("amd_payment")
        assert [p.name for p in params] == ["full_refresh", "vars"]
        assert "`full_refresh`: 'yes' is not of type 'boolean'." in await shell(
            "/amd run payment full_refresh=yes"
        )
        typo = await shell("/amd run payment var={}")
        assert "`amd_payment` has no param `var`. Did you mean `vars`?" in typo
        assert "Trigger amd_payment?" in await shell("/amd run payment rows=10")  # extra conf, as in Airflow
        assert "Trigger amd_payment?" in await shell("/amd run payment full_refresh=true")


def test_a_param_without_default_that_refuses_null_is_required() -> None:
    params = [DagParam("day", None, None, {"type": "string", "format": "date"})]

    assert field_errors(params, {}) == {"day": "required"}
    assert field_errors(params, {"day": "2026-11-20"}) == {}
    with pytest.raises(UsageError, match=r"`day`: required\."):
        check_conf("d", params, {}, {})


def test_a_dag_without_params_takes_any_conf_as_airflow_does() -> None:
    assert check_conf("d", [], {"anything": 1}, {"anything": "1"}) == {"anything": 1}


def test_a_huge_value_is_answered_with_a_short_problem() -> None:
    params = [DagParam("label", "x", None, {"type": "string", "maxLength": 20})]

    with pytest.raises(UsageError) as problem:
        check_conf("d", params, {"label": "x" * 10_000}, {"label": "x" * 10_000})

    assert len(problem.value.message) < 300
