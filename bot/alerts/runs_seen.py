"""Run incidents from every run that ended since the mark, in the order they ended.

Each failed run is recorded, even when a later run of the same DAG succeeded within the same read
(a cleared and re-run task, `max_active_runs > 1`, a fail and a fix while the bot was down): the
incident is then *failed and recovered* — resolved, with the failed and the recovering run ids in its
detail, so the digest lists it under "recovered". Each observation carries the run's end date, the
orchestrator's own time, so replicas' clocks never decide which came last.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from fnmatch import fnmatchcase
from typing import Any, Literal

from bot.core.backends import Backends
from bot.foundation.catalog import Entity
from bot.foundation.ports import RunReport
from bot.state.incidents import Cleared, Finding


def run_findings(backends: Backends, reports: Sequence[RunReport]) -> tuple[list[Finding], list[Cleared]]:
    """The failed runs' incidents, and the DAGs whose last run in `reports` succeeded."""
    by_dag: dict[str, list[RunReport]] = {}
    for report in reports:  # in the order they ended
        if report.run.finished:
            by_dag.setdefault(report.run.dag_id, []).append(report)
    found: list[Finding] = []
    cleared: list[Cleared] = []
    for dag, runs in by_dag.items():
        failed = [r for r in runs if r.run.state == "failed"]
        last = runs[-1]
        if failed:  # the last failure: the incident's summary names it; the others are in its detail
            finding = run_finding(backends, failed[-1])
            if len(failed) > 1:
                earlier = [r.run.run_id for r in failed[:-1]]
                finding = replace(
                    finding,
                    summary=f"{finding.summary} · before it: {_story(runs[: runs.index(failed[-1])])}",
                    detail={**finding.detail, "earlier_failed_runs": earlier},
                )
            found.append(finding)
        if last.run.state == "success":
            # Named whether the failure was read in this sweep or hours before: the recovered alert and
            # the digest say which run fixed it.
            recovered: dict[str, Any] = {"recovered_run_id": last.run.run_id}
            cleared.append(Cleared(f"run:{dag}", last.run.ended_at, recovered))
    return found, cleared


def _story(runs: Sequence[RunReport], shown: int = 3) -> str:
    """What the DAG's runs did before its last failure, within one read ("`r1` failed, `r2` succeeded"):
    a fail, a fix and a fail again is one open incident, and its alert says so."""
    said = {"success": "succeeded"}
    told = ", ".join(f"`{r.run.run_id}` {said.get(r.run.state, r.run.state)}" for r in runs[-shown:])
    return told if len(runs) <= shown else f"{len(runs) - shown} more, then {told}"


def run_finding(backends: Backends, report: RunReport) -> Finding:
    run = report.run
    first, entities = dag_entities(backends, run.dag_id)
    failed = ", ".join(f"`{t}`" for t in report.failed_tasks) or "no task named"
    return Finding(
        key=f"run:{run.dag_id}",
        kind="run",
        subject=run.dag_id,
        summary=f"DAG `{run.dag_id}` failed (run `{run.run_id}`): {failed}",
        severity=severity(backends, run.dag_id),
        entity=first.name if first else None,
        dag=run.dag_id,
        owner=first.owner if first else None,
        channel=first.support_channel if first else None,
        detail={
            "run_id": run.run_id,
            "url": run.url,
            "failed_tasks": list(report.failed_tasks),
            "entities": [e.name for e in entities],
        },
        observed_at=run.ended_at,
    )


def dag_entities(backends: Backends, dag: str) -> tuple[Entity | None, list[Entity]]:
    """The entities a DAG builds, by name, and the first of them: it lends the incident its owner and
    channel."""
    entities = sorted(backends.catalog.dags().get(dag, []), key=lambda e: e.name)
    return (entities[0] if entities else None), entities


def severity(backends: Backends, dag: str) -> Literal["critical", "warning"]:
    production = any(fnmatchcase(dag, p) for p in backends.settings.run_production)
    return "critical" if production else "warning"
