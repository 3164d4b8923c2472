"""Airflow's REST JSON as the port's types: runs, task instances, DAG schedules, links into the UI.

A DAG's next run is due when the scheduler is to create it, not at its logical date: a daily run for
Monday starts on Tuesday. Airflow 3 calls that `next_dagrun_run_after`; Airflow 2
`next_dagrun_create_after` (its `next_dagrun` is the logical date, a whole interval earlier). The data
interval's end is the same instant for interval timetables, and the fallback where the first is missing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from bot.adapters.orchestrator.airflow_auth import ApiVersion, Connection, public_url
from bot.adapters.orchestrator.airflow_http import Json
from bot.foundation.ports import DagSchedule, RunState, RunStateName, TaskState

_RUN_STATES: dict[str, RunStateName] = {
    "queued": "queued",
    "running": "running",
    "success": "success",
    "failed": "failed",
}

_DUE = {
    "v2": ("next_dagrun_run_after", "next_dagrun_data_interval_end"),
    "v1": ("next_dagrun_create_after", "next_dagrun_data_interval_end", "next_dagrun"),
}


def schedule_of(api: ApiVersion, dag: Json) -> DagSchedule:
    due = next((dag[name] for name in _DUE[api] if dag.get(name)), None)
    return DagSchedule(
        dag_id=dag["dag_id"],
        paused=bool(dag.get("is_paused")),
        next_run_after=datetime.fromisoformat(due) if due else None,
    )


def _dt(raw: str | None) -> datetime | None:
    return datetime.fromisoformat(raw) if raw else None


def run_state(conn: Connection, raw: Json) -> RunState:
    dag_id, run_id = raw["dag_id"], raw["dag_run_id"]
    # DagRunState has exactly these four values; anything else (a plugin's) reads as not finished.
    state = _RUN_STATES.get(raw.get("state") or "", "running" if raw.get("start_date") else "queued")
    return RunState(
        dag_id=dag_id,
        run_id=run_id,
        state=state,
        logical_date=_dt(raw.get("logical_date")),
        started_at=_dt(raw.get("start_date")),
        ended_at=_dt(raw.get("end_date")),
        conf=raw.get("conf") or {},
        url=_ui(conn, dag_id, run_id),
    )


def task_state(conn: Connection, ti: Json) -> TaskState:
    return TaskState(
        task_id=ti["task_id"],
        state=ti.get("state") or "none",  # null: not scheduled yet ("no status" in the UI)
        try_number=ti.get("try_number") or 0,
        started_at=_dt(ti.get("start_date")),
        ended_at=_dt(ti.get("end_date")),
        log_url=_ui(conn, ti["dag_id"], ti["dag_run_id"], ti),
    )


def _ui(conn: Connection, dag_id: str, run_id: str, ti: Json | None = None) -> str:
    """Links into the web UI: Airflow 3's React UI routes by path, Airflow 2's grid view by query."""
    base, dag, run = public_url(conn.base_url), quote(dag_id, safe=""), quote(run_id, safe="")
    map_index = ti.get("map_index", -1) if ti else -1
    if conn.api == "v2":
        if ti is None:
            return f"{base}/dags/{dag}/runs/{run}"
        mapped = f"/mapped/{map_index}" if map_index >= 0 else ""
        try_number = f"?try_number={ti['try_number']}" if ti.get("try_number") else ""
        return f"{base}/dags/{dag}/runs/{run}/tasks/{quote(ti['task_id'], safe='')}{mapped}{try_number}"
    query: dict[str, Any] = {"dag_run_id": run_id}
    if ti is not None:
        query |= {"task_id": ti["task_id"], "tab": "logs"} | (
            {"map_index": map_index} if map_index >= 0 else {}
        )
    return f"{base}/dags/{dag}/grid?{urlencode(query)}"
