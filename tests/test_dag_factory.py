"""The Composer DAG factory plans one DAG per `meta.dag` group: run, then test, each model, in dbt's order."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import shlex
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import aiohttp
import pytest

from tests.support.airflow import AirflowServer

FACTORY = Path(__file__).resolve().parents[1] / "deploy" / "composer" / "dag_factory.py"
PROJECT = "/home/airflow/gcs/dags/dbt"


def model(name: str, *parents: str, dag: str | None = None, **extra: Any) -> tuple[str, dict[str, Any]]:
    uid = f"model.amd.{name}"
    node = {
        "resource_type": "model",
        "name": name,
        "depends_on": {"nodes": list(parents)},
        "config": {"meta": {"dag": dag} if dag else {}},
        **extra,
    }
    return uid, node


MANIFEST: dict[str, Any] = {
    "nodes": dict(
        [
            model("stg_users", "source.amd.events.events"),
            model("user", "model.amd.stg_users", dag="amd_user"),
            model("stg_purchases", "source.amd.events.events"),
            # Depends on `user` of another DAG: that DAG's own schedule keeps it fresh.
            model("purchase", "model.amd.stg_purchases", "model.amd.user", dag="amd_purchase"),
            model("purchase_daily", "model.amd.purchase", dag="amd_purchase"),
            model("int_purchase_items", "model.amd.purchase"),
            model("purchase_items", "model.amd.int_purchase_items", dag="amd_purchase"),
            # `meta` declared in the model file loses to config.meta, as in the bot's catalog.
            model("payment", "model.amd.purchase", dag="amd_payment", meta={"dag": "amd_legacy"}),
            (
                "test.amd.not_null_user_user_id",
                {
                    "resource_type": "test",
                    "name": "not_null_user_user_id",
                    "config": {"meta": {"dag": "amd_user"}},
                },
            ),
            (
                "seed.amd.countries",
                {"resource_type": "seed", "name": "countries", "meta": {"dag": "amd_user"}},
            ),
        ]
    ),
}


@pytest.fixture(scope="module")
def factory() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dag_factory", FACTORY)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def dbt_run(name: str) -> tuple[str, ...]:
    return ("dbt", "run", "--select", name, "--project-dir", PROJECT)


def dbt_test(name: str) -> tuple[str, ...]:
    return ("dbt", "test", "--select", name, "--indirect-selection", "cautious", "--project-dir", PROJECT)


def test_one_dag_per_group_with_a_test_after_each_model(factory: ModuleType) -> None:
    plans = factory.plan(MANIFEST, project_dir=PROJECT)

    assert sorted(plans) == ["amd_payment", "amd_purchase", "amd_user"]
    assert plans["amd_user"] == [
        factory.Task("run_user", dbt_run("user"), ()),
        factory.Task("test_user", dbt_test("user"), ("run_user",)),
    ]


def test_models_wait_for_the_tests_of_their_parents_in_the_same_dag(factory: ModuleType) -> None:
    tasks = factory.plan(MANIFEST, project_dir=PROJECT)["amd_purchase"]
    upstream = {t.task_id: t.upstream for t in tasks}

    assert upstream["run_purchase"] == ()  # stg_purchases has no DAG, user belongs to another
    assert upstream["run_purchase_daily"] == ("test_purchase",)
    # Through int_purchase_items, which is in no DAG: the dependency on purchase is kept.
    assert upstream["run_purchase_items"] == ("test_purchase",)
    order = [t.task_id for t in tasks]
    assert all(order.index(u) < order.index(t.task_id) for t in tasks for u in t.upstream)
    assert order[:2] == ["run_purchase", "test_purchase"]


def test_config_meta_decides_the_group_and_only_models_take_part(factory: ModuleType) -> None:
    plans = factory.plan(MANIFEST, project_dir=PROJECT)

    assert [t.task_id for t in plans["amd_payment"]] == ["run_payment", "test_payment"]
    assert "amd_legacy" not in plans
    assert all(
        "not_null" not in t.task_id and "countries" not in t.task_id for ts in plans.values() for t in ts
    )


@pytest.mark.parametrize(
    ("name", "dag"),
    [("payment", "amd payment; rm -rf /"), ("payment-ä", "amd_payment")],
)
def test_names_airflow_cannot_take_are_refused(factory: ModuleType, name: str, dag: str) -> None:
    manifest = {"nodes": dict([model(name, dag=dag)])}

    with pytest.raises(ValueError, match="Airflow"):
        factory.plan(manifest, project_dir=PROJECT)


def test_the_bash_command_passes_every_argument_intact_and_writes_dbt_output_in_the_task_dir(
    factory: ModuleType, tmp_path: Path
) -> None:
    fake_dbt = tmp_path / "dbt"
    fake_dbt.write_text(
        f"#!{sys.executable}\n"
        "import json, os, sys\n"
        "print(json.dumps([sys.argv[1:], os.environ['DBT_TARGET_PATH'], os.environ['DBT_LOG_PATH']]))\n"
    )
    fake_dbt.chmod(0o755)
    hostile_dir = str(tmp_path / "dags; touch PWNED $(touch PWNED2) 'x'")
    [run_user, _] = factory.plan(
        {"nodes": dict([model("user", dag="amd_user")])}, project_dir=hostile_dir, dbt=str(fake_dbt)
    )["amd_user"]
    workdir = tmp_path / "airflowtmp"
    workdir.mkdir()

    done = subprocess.run(
        ["bash", "-c", factory.bash_command(run_user)],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=True,
    )

    argv, target_path, log_path = json.loads(done.stdout)
    assert argv == list(run_user.argv[1:])
    assert (target_path, log_path) == (f"{workdir}/target", f"{workdir}/logs")
    assert not list(workdir.iterdir())  # no PWNED files: nothing inside the path was run by the shell
    assert shlex.split(factory.bash_command(run_user))[2:] == list(run_user.argv)


def results_run(
    factory: ModuleType, tmp_path: Path, *, run_id: str, writes: bool = True, exit_code: int = 1
) -> tuple[subprocess.CompletedProcess[str], Path, Path]:
    """A task of the factory, with AMD_DBT_RESULTS_DIR set, run by bash as BashOperator runs it: a fake
    dbt that leaves a run_results.json (or none) and exits with `exit_code`; Airflow's ids in the
    environment. Returns the process, the results dir and the task's work dir."""
    fake_dbt = tmp_path / "dbt"
    fake_dbt.write_text(
        f"#!{sys.executable}\n"
        "import os, pathlib, sys\n"
        "target = pathlib.Path(os.environ['DBT_TARGET_PATH'])\n"
        f"if {writes}:\n"
        "    target.mkdir()\n"
        "    (target / 'run_results.json').write_text('{\"results\": []}')\n"
        f"sys.exit({exit_code})\n"
    )
    fake_dbt.chmod(0o755)
    hostile = tmp_path / "data; touch PWNED $(touch PWNED2) 'x' \"$HOME\""
    [_, test_user] = factory.plan(
        {"nodes": dict([model("user", dag="amd_user")])}, project_dir=PROJECT, dbt=str(fake_dbt)
    )["amd_user"]
    workdir = tmp_path / "airflowtmp"
    workdir.mkdir()
    ids = {
        "AIRFLOW_CTX_DAG_ID": "amd_user",
        "AIRFLOW_CTX_DAG_RUN_ID": run_id,
        "AIRFLOW_CTX_TASK_ID": "test_user",
    }
    done = subprocess.run(
        ["bash", "-c", factory.bash_command(test_user, results_dir=str(hostile))],
        cwd=workdir,
        env={"PATH": "/usr/bin:/bin", **ids},
        capture_output=True,
        text=True,
        check=False,
    )
    return done, hostile, workdir


def test_with_a_results_dir_the_task_keeps_dbts_run_results_under_its_run_and_fails_as_dbt_did(
    factory: ModuleType, tmp_path: Path
) -> None:
    run_id = "manual__2026-12-02T08:00:00+00:00"
    done, results, workdir = results_run(factory, tmp_path, run_id=run_id)

    assert done.returncode == 1, done.stderr  # dbt's: a failing test fails the task
    kept = results / "amd_user" / run_id
    assert [p.name for p in kept.iterdir()] == ["test_user.json"]  # no half-copied file left behind
    assert json.loads((kept / "test_user.json").read_text()) == {"results": []}
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["dbt", "airflowtmp", results.name])
    assert [p.name for p in workdir.iterdir()] == ["target"]  # no PWNED files


@pytest.mark.parametrize("run_id", ["..", "", "a/../../../escaped", "."])
def test_run_ids_that_would_leave_the_results_dir_keep_nothing(
    factory: ModuleType, tmp_path: Path, run_id: str
) -> None:
    done, results, _ = results_run(factory, tmp_path, run_id=run_id, exit_code=0)

    assert done.returncode == 0, done.stderr
    assert not results.exists()
    assert not list(tmp_path.rglob("test_user.json"))


def test_a_dbt_that_wrote_no_run_results_keeps_nothing_and_its_exit_code(
    factory: ModuleType, tmp_path: Path
) -> None:
    done, results, _ = results_run(factory, tmp_path, run_id="scheduled__1", writes=False, exit_code=2)

    assert done.returncode == 2
    assert not results.exists()


def test_a_results_dir_that_cannot_be_written_is_said_and_the_task_keeps_dbts_outcome(
    factory: ModuleType, tmp_path: Path
) -> None:
    (tmp_path / "data; touch PWNED $(touch PWNED2) 'x' \"$HOME\"").write_text("a file, not a dir")
    done, _, _ = results_run(factory, tmp_path, run_id="scheduled__1", exit_code=0)

    assert done.returncode == 0
    assert "could not keep dbt's run_results.json" in done.stderr


def test_importing_without_airflow_defines_no_dags(factory: ModuleType) -> None:
    if importlib.util.find_spec("airflow") is not None:
        pytest.skip("Airflow is installed here; test_airflow_builds_the_planned_dags covers this case")

    assert not [name for name in vars(factory) if name.startswith("amd_")]


@pytest.mark.airflow
async def test_the_factory_dags_load_in_airflow_3_with_the_dbt_graph_as_their_task_graph(
    factory: ModuleType, airflow_server: AirflowServer
) -> None:
    project = airflow_server.factory
    assert project is not None
    manifest = json.loads((project.project_dir / "target" / "manifest.json").read_text())
    plans = factory.plan(manifest, project_dir=str(project.project_dir))
    assert sorted(plans) == ["amd_delivery_address", "amd_payment", "amd_purchase", "amd_user"]

    async with airflow_api(airflow_server) as get:
        async with asyncio.timeout(120):  # the dag-processor parses the folder soon after start
            while not set(plans) <= {d["dag_id"] for d in (await get("/dags?limit=100"))["dags"]}:
                await asyncio.sleep(0.5)
        errors = (await get("/importErrors"))["import_errors"]
        graphs = {dag_id: (await get(f"/dags/{dag_id}/tasks"))["tasks"] for dag_id in plans}

    assert errors == []
    for dag_id, tasks in plans.items():
        downstream = {t.task_id: {d for d in tasks if t.task_id in d.upstream} for t in tasks}
        assert {t["task_id"]: set(t["downstream_task_ids"]) for t in graphs[dag_id]} == {
            task_id: {d.task_id for d in ds} for task_id, ds in downstream.items()
        }, dag_id
    assert [t.task_id for t in plans["amd_payment"]] == [
        "run_payment",
        "test_payment",
        "run_payment_daily",
        "test_payment_daily",
    ]


@asynccontextmanager
async def airflow_api(server: AirflowServer) -> AsyncIterator[Callable[[str], Awaitable[Any]]]:
    """GET on Airflow 3's REST API as the test's admin: `await get("/dags")` → the decoded JSON."""
    async with aiohttp.ClientSession(raise_for_status=True) as session:
        login = {"username": server.username, "password": server.password}
        async with session.post(f"{server.url}/auth/token", json=login) as resp:
            headers = {"Authorization": f"Bearer {(await resp.json())['access_token']}"}

        async def get(path: str) -> Any:
            async with session.get(f"{server.url}/api/v2{path}", headers=headers) as resp:
                return await resp.json()

        yield get
