"""Composer DAG factory: one Airflow DAG per dbt entity group, built from dbt's manifest.json.

A model joins the DAG its ``config.meta.dag`` names (``meta.dag`` also counts; ``config.meta`` wins, as in
the bot's catalog). Each model becomes ``run_<model>`` (``dbt run --select <model>``) followed by
``test_<model>`` (``dbt test --select <model>``), and a model runs only after the models it depends on in
the same DAG passed their tests, so bad data stops where it was found. Dependencies through models of
no group (staging views) are followed to the grouped models behind them.

Deploy: copy this file into the environment's ``dags/`` folder next to the dbt project (``dags/dbt``,
with ``target/manifest.json`` from ``dbt parse``). Airflow imports it and finds the DAGs in its
globals. Without Airflow (our tests) importing it only defines the planning functions.

Environment variables (Composer: the environment's "Environment variables" page), all optional:
``AMD_DBT_PROJECT_DIR`` (default ``dags/dbt``), ``AMD_DBT_MANIFEST`` (default
``<project>/target/manifest.json``), ``AMD_DAG_SCHEDULE`` (a cron expression or preset, default
``@daily``; ``none``: runs only when triggered, e.g. from amd-bot) and ``AMD_DBT_RESULTS_DIR``: when set,
each task keeps dbt's ``run_results.json`` as ``<dir>/<dag_id>/<run_id>/<task_id>.json`` so amd-bot's
failure watcher can name the failing tests of a run (Composer: ``/home/airflow/gcs/data/dbt-results``,
the bucket's ``data/`` folder, which the bot mounts).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

DBT_PROJECT_DIR = Path(os.environ.get("AMD_DBT_PROJECT_DIR") or Path(__file__).resolve().parent / "dbt")
# Airflow accepts letters, digits, dashes, dots and underscores in DAG and task ids.
_AIRFLOW_ID = re.compile(r"[A-Za-z0-9_.-]{1,250}")


class Task(NamedTuple):
    task_id: str
    argv: tuple[str, ...]
    upstream: tuple[str, ...]


def plan(manifest: Mapping[str, Any], *, project_dir: str, dbt: str = "dbt") -> dict[str, list[Task]]:
    """{dag_id: tasks in dependency order}; pure, so it is tested without Airflow.

    Profiles and target are not arguments: dbt reads DBT_PROFILES_DIR and DBT_TARGET from the
    environment, which is where Composer keeps them.
    """
    models = {
        uid: node for uid, node in manifest.get("nodes", {}).items() if node.get("resource_type") == "model"
    }
    groups: dict[str, list[str]] = {}
    for uid, node in models.items():
        dag_id = _meta(node).get("dag")
        if dag_id:
            if not _AIRFLOW_ID.fullmatch(str(dag_id)):
                raise ValueError(f"{uid}: meta.dag {dag_id!r} is not a valid Airflow DAG id")
            groups.setdefault(str(dag_id), []).append(uid)
    common = ("--project-dir", project_dir)
    plans: dict[str, list[Task]] = {}
    for dag_id, members in sorted(groups.items()):
        tasks: list[Task] = []
        for uid in _in_dependency_order(members, models):
            name = models[uid]["name"]
            if not _AIRFLOW_ID.fullmatch(f"test_{name}"):
                raise ValueError(f"{uid}: model name {name!r} cannot be part of an Airflow task id")
            upstream = tuple(f"test_{models[u]['name']}" for u in _grouped_parents(uid, set(members), models))
            run = (dbt, "run", "--select", name, *common)
            # cautious: without it `dbt test --select X` also runs relationship tests of X's neighbours.
            test = (dbt, "test", "--select", name, "--indirect-selection", "cautious", *common)
            tasks += [Task(f"run_{name}", run, upstream), Task(f"test_{name}", test, (f"run_{name}",))]
        plans[dag_id] = tasks
    return plans


# BashOperator runs each command in a fresh private temporary directory; dbt's target/ and logs/ go there,
# because the dags folder is a synced bucket and parallel tasks must not share them. dbt resolves a
# relative target path against the project, hence $PWD.
_PER_RUN_PATHS = 'DBT_TARGET_PATH="$PWD/target" DBT_LOG_PATH="$PWD/logs" '


# After dbt: its run_results.json is copied where amd-bot reads it, under ids Airflow puts in the task's
# environment. An id that is empty, `.`, `..` or holds a `/` would leave that dir: nothing is kept then.
# Copied to a hidden name and renamed, so a reader never sees half a file. The task's outcome is dbt's.
_KEEP_RESULTS = """
keep=1
for part in "$AIRFLOW_CTX_DAG_ID" "$AIRFLOW_CTX_DAG_RUN_ID" "$AIRFLOW_CTX_TASK_ID"; do
  case "$part" in ''|.|..|*/*) keep=0 ;; esac
done
if [ "$keep" = 1 ] && [ -f "$PWD/target/run_results.json" ]; then
  kept="$results/$AIRFLOW_CTX_DAG_ID/$AIRFLOW_CTX_DAG_RUN_ID"
  hidden="$kept/.$AIRFLOW_CTX_TASK_ID.json.tmp"
  if ! { mkdir -p -- "$kept" && cp -- "$PWD/target/run_results.json" "$hidden" &&
    mv -f -- "$hidden" "$kept/$AIRFLOW_CTX_TASK_ID.json"; }; then
    echo "amd: could not keep dbt's run_results.json in $kept" >&2
  fi
fi
exit "$code"
"""


def bash_command(task: Task, *, results_dir: str | None = None) -> str:
    """BashOperator wants a string: every argument is quoted, so no manifest value is read as shell.
    With `results_dir`, dbt's run_results.json is kept there for amd-bot (see _KEEP_RESULTS)."""
    command = _PER_RUN_PATHS + shlex.join(task.argv)
    if results_dir is None:
        return command
    return f"{command}\ncode=$?\nresults={shlex.quote(results_dir)}{_KEEP_RESULTS}"


def _meta(node: Mapping[str, Any]) -> Mapping[str, Any]:
    return {**node.get("meta", {}), **node.get("config", {}).get("meta", {})}


def _grouped_parents(uid: str, group: set[str], models: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The nearest models of `group` upstream of `uid`, looking through models outside the group."""
    found: set[str] = set()
    seen: set[str] = set()
    stack = list(_model_parents(uid, models))
    while stack:
        parent = stack.pop()
        if parent in seen:
            continue
        seen.add(parent)
        if parent in group:
            found.add(parent)
        else:
            stack.extend(_model_parents(parent, models))
    return sorted(found, key=lambda u: models[u]["name"])


def _model_parents(uid: str, models: Mapping[str, Mapping[str, Any]]) -> Iterable[str]:
    return (p for p in models[uid].get("depends_on", {}).get("nodes", []) if p in models)


def _in_dependency_order(members: Sequence[str], models: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Upstream first; ties by name, so the plan is the same on every parse."""
    group = set(members)
    parents = {uid: set(_grouped_parents(uid, group, models)) for uid in members}
    ordered: list[str] = []
    while parents:
        ready = sorted((u for u, ps in parents.items() if not ps), key=lambda u: models[u]["name"])
        if not ready:
            raise ValueError(f"dependency cycle among {sorted(parents)}")
        for uid in ready:
            ordered.append(uid)
            del parents[uid]
        for ps in parents.values():
            ps.difference_update(ready)
    return ordered


def build_dags(
    plans: Mapping[str, Sequence[Task]], *, schedule: str | None = "@daily", results_dir: str | None = None
) -> dict[str, Any]:
    """Airflow DAG objects for `plans`; imports Airflow, so only call it where Airflow is installed."""
    try:  # Airflow 3: the operator lives in the standard provider, DAG in the task SDK
        from airflow.providers.standard.operators.bash import BashOperator
        from airflow.sdk import DAG
    except ImportError:  # Airflow 2
        from airflow import DAG
        from airflow.operators.bash import BashOperator

    dags: dict[str, Any] = {}
    for dag_id, tasks in plans.items():
        with DAG(
            dag_id,
            schedule=schedule,
            start_date=datetime(2026, 1, 1, tzinfo=UTC),
            catchup=False,
            # amd-bot triggers runs itself; a second trigger queues behind the running one.
            max_active_runs=1,
            tags=["amd", "dbt"],
            doc_md=f"dbt models of `{dag_id}`, generated from dbt's manifest by amd-bot's dag_factory.py.",
        ) as dag:
            operators = {
                task.task_id: BashOperator(
                    task_id=task.task_id,
                    bash_command=bash_command(task, results_dir=results_dir),
                )
                for task in tasks
            }
            for task in tasks:
                for upstream in task.upstream:
                    operators[upstream] >> operators[task.task_id]
        dags[dag_id] = dag
    return dags


def _load_manifest() -> Mapping[str, Any]:
    path = Path(os.environ.get("AMD_DBT_MANIFEST") or DBT_PROJECT_DIR / "target" / "manifest.json")
    loaded: Mapping[str, Any] = json.loads(path.read_text())
    return loaded


def _schedule() -> str | None:
    schedule = os.environ.get("AMD_DAG_SCHEDULE", "@daily").strip()
    return None if schedule.lower() in {"", "none"} else schedule


if importlib.util.find_spec("airflow") is not None:
    # Airflow collects the DAGs it finds in this module's globals.
    globals().update(
        build_dags(
            plan(_load_manifest(), project_dir=str(DBT_PROJECT_DIR)),
            schedule=_schedule(),
            results_dir=os.environ.get("AMD_DBT_RESULTS_DIR") or None,
        )
    )
