"""A team points the bot at its own dbt project — tests/projects/harbour, written with none of the demo's
conventions (no `meta`, a relative DuckDB path in its own profiles.yml) — and every command answers.

The project is copied and built once per module, the way a team's own `dbt build` leaves it: the
warehouse file in the project, but no target/ (that build wrote elsewhere). So the bot must parse the
project itself, and until it sees a build it knows no last load.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.adapters.dbt.project import manifest_is_stale, open_project
from bot.core.backends import Backends
from bot.foundation.settings import Settings
from tests.support.airflow import AirflowServer
from tests.support.bot import BotHarness, running_bot
from tests.support.demo import isolated_settings
from tests.test_cmd_run import Shell, airflow_settings

HARBOUR = Path(__file__).resolve().parent / "projects" / "harbour"
MARTS = ("berth_usage", "port_calls", "vessels")


class Project:
    def __init__(self, root: Path) -> None:
        self.dir = root / "harbour"
        self.own_build = root / "own-build"  # the target/ of the team's own `dbt build`

    def settings(self, home: Path, **overrides: object) -> Settings:
        """The one setting a team gives, plus a home of the test's own."""
        return isolated_settings(
            home,
            dbt_project_dir=self.dir,
            state_url=f"sqlite+aiosqlite:///{home / 'state.db'}",
            **overrides,
        )


@pytest.fixture(scope="module")
def harbour(tmp_path_factory: pytest.TempPathFactory) -> Project:
    project = Project(tmp_path_factory.mktemp("team"))
    shutil.copytree(HARBOUR, project.dir)
    dbt = Path(sys.executable).parent / "dbt"
    build = [str(dbt), "build", "--profiles-dir", ".", "--target-path", str(project.own_build)]
    done = subprocess.run(build, cwd=project.dir, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 1, done.stdout[-2000:]  # 1: the harbour's one failing test, as intended
    return project


@pytest.fixture
async def bot(harbour: Project, tmp_path: Path) -> AsyncIterator[BotHarness]:
    async with running_bot(harbour.settings(tmp_path)) as harness:
        yield harness


def table_row(out: str, entity: str) -> list[str]:
    return next(line.split() for line in out.splitlines() if line.startswith(f"{entity} "))


async def test_one_setting_is_enough_and_every_model_is_listed(bot: BotHarness, harbour: Project) -> None:
    backends: Backends = bot.backends

    out = await bot.console("/amd stats")

    assert (harbour.dir / "target" / "manifest.json").exists()  # made by the bot's own `dbt parse`
    assert backends.settings.duckdb_path == harbour.dir / "harbour.duckdb"  # from the profile, made absolute
    # Every materialised model; the ephemeral berth_hours is not in the warehouse.
    assert sorted(backends.catalog.entities) == ["berth_usage", "port_calls", "stg_port_calls", "vessels"]
    assert table_row(out, "vessels")[:2] == ["vessels", "3"]
    assert table_row(out, "port_calls")[-2:] == ["Port", "Operations"]  # the owner of its dbt group
    assert "Every entity is fresh" not in out
    assert "Last load unknown for `berth_usage`, `port_calls`, `stg_port_calls`, `vessels`" in out
    assert "no successful build on record" in out
    assert "STALE" not in out and "never" not in out


async def test_slack_gets_the_same_answer_and_no_chart_without_a_load_column(bot: BotHarness) -> None:
    reply = await bot.slash("/amd stats", user="U1", channel="C1")
    (listed,) = await bot.answers(reply)
    (details,) = await bot.answers(await bot.slash("/amd stats vessels", channel="C1"))

    assert reply.status == 200
    assert "Last load unknown for" in str(listed["blocks"])
    assert "Every entity is fresh" not in str(listed["blocks"])
    assert "No daily volume chart" in str(details["blocks"])
    assert bot.slack.uploads == {}


async def test_stats_of_a_model_without_a_load_column_leaves_the_chart_out(bot: BotHarness) -> None:
    out = await bot.console("/amd stats port_calls")

    assert "Something went wrong" not in out
    assert "Rows             5" in out
    assert "Last load        unknown: no load column" in out
    assert "No daily volume chart: the model has no load column to count by day" in out
    assert "Owner            Port Operations" in out
    # Only the documented columns are in the manifest; the count says so rather than pass for the table's.
    assert "Columns          none documented in dbt" in await bot.console("/amd stats berth_usage")
    # A model of the project that is no entity says why, rather than list the entities as for a typo.
    ephemeral = await bot.console("/amd stats berth_hours")
    assert (
        "No entity `berth_hours`: it is an ephemeral dbt model, with no table in the warehouse." in ephemeral
    )


async def test_the_teams_own_build_is_a_fact_of_freshness(bot: BotHarness, harbour: Project) -> None:
    # The team runs `dbt build` as usual; it leaves run_results.json in the project's target.
    shutil.copy(harbour.own_build / "run_results.json", harbour.dir / "target" / "run_results.json")
    built = {
        r["unique_id"]: r["timing"][-1]["completed_at"]
        for r in json.loads((harbour.own_build / "run_results.json").read_text())["results"]
    }
    try:
        out = await bot.console("/amd stats vessels")
    finally:
        (harbour.dir / "target" / "run_results.json").unlink()

    when = built["model.harbour.vessels"][:16].replace("T", " ")
    assert f"Last load        {when} UTC (" in out
    assert "ago, last build)" in out
    assert "no SLA" in out


async def test_test_runs_the_projects_own_tests(bot: BotHarness) -> None:
    out = await bot.console("/amd test port_calls")
    other = await bot.console("/amd test vessels")

    assert "not_null_port_calls_departed_at" in out
    # All four of port_calls' tests, its relationships test to the unselected `vessels` among them (dbt's
    # cautious selection alone would leave it out); and none of them when `vessels` is tested.
    assert "1 of 4 tests failed." in out
    assert "port_calls · owner Port Operations" in out
    assert "All 2 tests passed" in other, other
    asked = await bot.console("did the port_calls tests pass?")
    assert "`not_null_port_calls_departed_at`: fail, 1 failing row (" in asked, asked  # one ship at its berth


async def test_run_builds_a_model_and_its_parents_after_the_confirmation(bot: BotHarness) -> None:
    shell = Shell(bot)
    asked = await shell("/amd run vessels full_refresh=false")  # words skip the form
    assert "Trigger vessels?" in asked
    assert "local (dbt build in harbour)" in asked

    await shell("1")
    followed = await shell.follow()

    assert re.search(r"@U1 Run vessels \(amd__\w+\): success", followed)
    assert "`raw_vessels`" in followed  # the parent seed was built too (`+vessels`)
    bot.backends.stats.invalidate()
    stats = await shell("/amd stats")
    assert table_row(stats, "vessels")[4:6] == ["UTC", "(build)"]
    assert "Last load unknown for `berth_usage`, `port_calls`, `stg_port_calls`: no load column" in stats


@pytest.mark.airflow
async def test_on_airflow_a_model_without_a_dag_says_which_setting_is_missing(
    harbour: Project, tmp_path: Path, airflow_server: AirflowServer
) -> None:
    settings = airflow_settings(harbour.settings(tmp_path), airflow_server)
    async with running_bot(settings) as bot:
        out = await bot.console("/amd run vessels")

    assert "Entity `vessels` has no DAG: set `meta.dag` on the model to the DAG that builds it" in out
    assert "Trigger" not in out


async def test_entities_are_a_dbt_selector(harbour: Project, tmp_path: Path) -> None:
    async with running_bot(harbour.settings(tmp_path, entities="path:models/marts")) as bot:
        assert sorted(bot.backends.catalog.entities) == list(MARTS)

    async with running_bot(harbour.settings(tmp_path, entities="tag:amd")) as bot:
        out = await bot.console("/amd stats")
    assert "No model of the dbt project is selected as an entity. Set `AMD_ENTITIES`" in out
    assert "Every entity is fresh" not in out


async def test_the_manifest_is_parsed_again_when_the_project_changed(
    harbour: Project, tmp_path: Path
) -> None:
    settings = await open_project(harbour.settings(tmp_path))
    assert not manifest_is_stale(settings)

    parsed = settings.manifest_path.stat().st_mtime
    edited = harbour.dir / "models" / "marts" / "vessels.sql"
    os.utime(edited, (parsed + 60, parsed + 60))  # the team edits a model after the last parse

    assert manifest_is_stale(settings)
    await open_project(settings.model_copy(update={"dbt_manifest": settings.manifest_path}))
    assert settings.manifest_path.stat().st_mtime == parsed  # AMD_DBT_MANIFEST is used as it is
