"""DAGs that just stop: nothing fails, nothing runs — the silent failure no failure callback catches.

- **paused**: a watched DAG with a schedule that is paused;
- **missing**: its scheduled run is not started AMD_ALERT_MISSING_GRACE_M after the orchestrator said
  it was due (a scheduler that is down, a DAG that no longer parses);
- **stuck**: a run going longer than max(3 × the p90 of its last 20 runs, 1 h), or than the
  `meta.expected_duration_m` of the DAG's models where one is set.

One call for every DAG's schedule and one for the runs going now, whatever the number of DAGs; the
history of a DAG is read only for a run already past the hour. Each resolves once the DAG runs again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from math import ceil
from typing import Any

from bot.alerts.runs_seen import dag_entities, severity
from bot.core.backends import Backends
from bot.foundation.alert_routes import AlertKind
from bot.foundation.ports import DagSchedule, RunState
from bot.render.format import age, when
from bot.state.incidents import Cleared, Finding

STOPPED: tuple[AlertKind, ...] = ("paused", "missing", "stuck")
STUCK_FLOOR = timedelta(hours=1)
HISTORY = 20  # runs whose durations make a DAG's usual one


async def stopped_dags(
    backends: Backends, dags: Sequence[str], now: datetime
) -> tuple[list[Finding], list[Cleared]]:
    """The incidents of the DAGs that stopped, and the stopped kinds' keys of those that did not."""
    orchestrator = backends.orchestrator
    schedules = await orchestrator.dag_schedules(dags)
    running = [r for r in await orchestrator.active_runs(dags) if r.state == "running" and r.started_at]
    found: list[Finding] = []
    grace = timedelta(minutes=backends.settings.alert_missing_grace_m)
    for schedule in schedules:
        due = schedule.next_run_after
        if due is not None and schedule.paused:  # a DAG with no schedule may well be paused: nothing is due
            since = f" since {when(schedule.paused_since)}" if schedule.paused_since else ""
            found.append(
                _finding(backends, "paused", schedule, f"is paused{since}: its scheduled runs do not start")
            )
        elif due is not None and now > due + grace:
            found.append(
                _finding(
                    backends, "missing", schedule, f"did not run: its run due {when(due)} has not started"
                )
            )
    for run in running:
        assert run.started_at is not None
        took, limit = now - run.started_at, _set_by_meta(backends, run.dag_id)
        if limit is None and took > STUCK_FLOOR:  # its history is read only once a run is past the floor
            history = await orchestrator.latest_runs([run.dag_id], HISTORY + len(running))
            limit = max(3 * _p90([r for r in history if r.finished][:HISTORY]), STUCK_FLOOR)
        if limit is not None and took > limit:
            summary = (
                f"run `{run.run_id}` is stuck: running for {age(took)} (usually done within {age(limit)})"
            )
            schedule = DagSchedule(run.dag_id, paused=False)
            found.append(
                _finding(backends, "stuck", schedule, summary, {"run_id": run.run_id, "url": run.url})
            )
    seen = {f.key for f in found}
    cleared = [Cleared(key) for dag in dags for kind in STOPPED if (key := f"{kind}:{dag}") not in seen]
    return found, cleared


def _finding(
    backends: Backends,
    kind: AlertKind,
    schedule: DagSchedule,
    what: str,
    detail: dict[str, str | None] | None = None,
) -> Finding:
    dag = schedule.dag_id
    first, entities = dag_entities(backends, dag)
    return Finding(
        key=f"{kind}:{dag}",
        kind=kind,
        subject=dag,
        summary=f"DAG `{dag}` {what}",
        severity=severity(backends, dag),
        entity=first.name if first else None,
        dag=dag,
        owner=first.owner if first else None,
        channel=first.support_channel if first else None,
        detail={
            "entities": [e.name for e in entities],
            "next_run_after": schedule.next_run_after and schedule.next_run_after.isoformat(),
            **(detail or {}),
        },
    )


def _set_by_meta(backends: Backends, dag: str) -> timedelta | None:
    """The longest `meta.expected_duration_m` among the DAG's models: a run longer than that is stuck."""
    _first, entities = dag_entities(backends, dag)
    nodes = backends.catalog.nodes
    minutes = [
        float(meta["expected_duration_m"])
        for e in entities
        if "expected_duration_m" in (meta := _meta(nodes.get(e.unique_id, {})))
    ]
    return timedelta(minutes=max(minutes)) if minutes else None


def _p90(runs: Sequence[RunState]) -> timedelta:
    took = sorted(r.ended_at - r.started_at for r in runs if r.finished and r.started_at and r.ended_at)
    return took[ceil(0.9 * len(took)) - 1] if took else timedelta(0)


def _meta(node: Mapping[str, Any]) -> dict[str, Any]:
    return {**(node.get("config", {}).get("meta") or {}), **(node.get("meta") or {})}
