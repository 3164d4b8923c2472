"""The local runner's run records: one `run.json` per run, beside that run's dbt artifacts."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.foundation.ports import RunState, RunStateName, TaskState

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
