"""The local runner's run records: one `run.json` per run, beside that run's dbt artifacts; which DAGs
are paused (`paused.json`); and the demo DAGs' nightly schedule."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.foundation.ports import DagSchedule, RunState, RunStateName, TaskState
from bot.foundation.settings import Settings

log = logging.getLogger(__name__)

# dbt's node statuses (log events and run_results) as the Airflow task states the cards know.
_AIRFLOW_STATES = {
    "started": "running",
    "compiling": "running",
    "executing": "running",
    "success": "success",
    "pass": "success",
    "warn": "success",  # a warn-severity test does not fail the task, as in the Composer DAGs
    "no-op": "success",
    "fail": "failed",
    "error": "failed",
    "runtime error": "failed",
    "skipped": "upstream_failed",  # dbt build skips a node only because something upstream failed
}


def airflow_state(dbt_status: str) -> str:
    return _AIRFLOW_STATES.get(dbt_status, "failed")


@dataclass
class LocalRun:
    dag_id: str
    run_id: str
    directory: Path
    conf: dict[str, Any]
    logical_date: datetime | None
    created_at: datetime
    state: RunStateName = "queued"
    started_at: datetime | None = None
    ended_at: datetime | None = None
    attempt: int = 0  # dbt invocations so far: 1 for the run, +1 for each clear_failed
    tasks: dict[str, TaskState] = field(default_factory=dict)  # task id (dbt node name) -> state

    def state_of(self, url: str) -> RunState:
        return RunState(
            self.dag_id,
            self.run_id,
            self.state,
            self.logical_date,
            self.started_at,
            self.ended_at,
            dict(self.conf),
            url,
        )

    def save(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        record = {
            "dag_id": self.dag_id,
            "run_id": self.run_id,
            "conf": self.conf,
            "logical_date": _iso(self.logical_date),
            "created_at": _iso(self.created_at),
            "state": self.state,
            "started_at": _iso(self.started_at),
            "ended_at": _iso(self.ended_at),
            "attempt": self.attempt,
            "tasks": [
                {**t.__dict__, "started_at": _iso(t.started_at), "ended_at": _iso(t.ended_at)}
                for t in self.tasks.values()
            ],
        }
        # Written aside and renamed: a crash mid-write must not leave a record that cannot be read.
        scratch = self.directory / "run.json.tmp"
        scratch.write_text(json.dumps(record, indent=1))
        os.replace(scratch, self.directory / "run.json")


def load_runs(root: Path) -> list[LocalRun]:
    """Every recorded run; one that was queued or running belonged to a process that is gone."""
    runs = []
    for path in sorted(root.glob("*/*/run.json")):
        try:
            runs.append(_parse(path))
        except (OSError, ValueError, KeyError, TypeError):
            log.warning("skipping unreadable local run record %s", path)
            continue
        run = runs[-1]
        if run.state in ("queued", "running"):
            run.state, run.ended_at = "failed", run.ended_at or datetime.now(UTC)
            run.save()
    return runs


def runs_dir(settings: Settings) -> Path:
    return settings.home / "dbt" / "local_runs"


def paused_dags(root: Path) -> dict[str, datetime]:
    """DAG id -> since when it is paused (`amd-bot demo pause`)."""
    path = root / "paused.json"
    return (
        {dag: datetime.fromisoformat(at) for dag, at in json.loads(path.read_text()).items()}
        if path.is_file()
        else {}
    )


def set_paused(root: Path, dag_id: str, since: datetime | None) -> None:
    """Pause a DAG from `since`, or (None) resume it."""
    paused = {dag: _iso(at) for dag, at in paused_dags(root).items() if dag != dag_id}
    if since is not None:
        paused[dag_id] = _iso(since)
    root.mkdir(parents=True, exist_ok=True)
    scratch = root / "paused.json.tmp"
    scratch.write_text(json.dumps(paused, indent=1))
    os.replace(scratch, root / "paused.json")


def nightly(dag_id: str, runs: list[LocalRun], paused: dict[str, datetime]) -> DagSchedule:
    """The demo DAGs run nightly, as the DAG factory's `@daily` would: after a scheduled run for one
    night (its logical date, or the day it was made), the next is due at the following midnight, UTC.
    Never scheduled yet: nothing is due."""
    nights = [
        r.logical_date or r.created_at
        for r in runs
        if r.dag_id == dag_id and r.run_id.startswith("scheduled__")
    ]
    last = max(nights, default=None)
    due = None if last is None else datetime.combine(last.astimezone(UTC).date(), datetime.min.time(), UTC)
    return DagSchedule(dag_id, dag_id in paused, paused.get(dag_id), due and due + timedelta(days=1))


def _parse(path: Path) -> LocalRun:
    raw = json.loads(path.read_text())
    tasks = {
        t["task_id"]: TaskState(**{**t, "started_at": _dt(t["started_at"]), "ended_at": _dt(t["ended_at"])})
        for t in raw["tasks"]
    }
    created = _dt(raw["created_at"])
    return LocalRun(
        dag_id=raw["dag_id"],
        run_id=raw["run_id"],
        directory=path.parent,
        conf=raw["conf"],
        logical_date=_dt(raw["logical_date"]),
        created_at=created or datetime.now(UTC),
        state=raw["state"],
        started_at=_dt(raw["started_at"]),
        ended_at=_dt(raw["ended_at"]),
        attempt=int(raw["attempt"]),
        tasks=tasks,
    )


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _dt(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def dbt_options(run: LocalRun) -> list[str]:
    """dbt's flags for the run's params; the conf was checked against PARAMS before the trigger."""
    options = ["--full-refresh"] if run.conf.get("full_refresh") is True else []
    if run.conf.get("vars"):
        options += ["--vars", json.dumps(run.conf["vars"])]  # one argv element: no shell reads it
    return options
