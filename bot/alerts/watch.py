"""The failure watcher: one sweep reads every source and turns what it finds into incidents.

Sources: the orchestrator's runs of every known DAG (one batch call, scheduled runs included), the
stored dbt test results, entity freshness from the stats service (within its cache) and the migration
ledger; then, when AMD_DBT_RESULTS_DIR is set, the dbt results the runs just seen left there. Runs and
tests are read since a stored mark, so nothing that happened while the bot was down is missed. A source
that cannot be read is named, never taken for "all green".
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fnmatch import fnmatchcase

from bot.alerts.tests_seen import (
    RUN_TESTS,
    entities_by_model,
    named,
    run_test_findings,
    test_finding,
    test_key,
)
from bot.core.backends import Backends
from bot.core.stats import samples
from bot.foundation.catalog import CatalogMissing
from bot.foundation.ports import BackendUnavailable, RunReport, RunState
from bot.migration.ledger import Ledger
from bot.render.format import age, hours
from bot.state.freshness import FreshnessHistory
from bot.state.incidents import Finding, Incidents
from bot.state.results import TestResults

log = logging.getLogger(__name__)
FIRST_LOOK_BACK = timedelta(days=1)  # a bot that never watched before reads the last day
# Runs and results read again from a little before the mark: a run that ended just before the last
# sweep but was written after it (clock skew, a slow commit) is not skipped.
OVERLAP = timedelta(minutes=5)
SOURCES = ("orchestrator", "dbt test results", "warehouse", "migrations")
SWEPT = "watch:swept"  # the mark of the last sweep; `watch:read:<source>` that of its last good read


@dataclass
class Sweep:
    found: list[Finding] = field(default_factory=list)
    cleared: set[str] = field(default_factory=set)
    unreadable: dict[str, str] = field(default_factory=dict)  # source -> why it could not be read
    marks: dict[str, datetime] = field(default_factory=dict)  # marks to move once this is recorded
    runs: list[RunState] = field(default_factory=list)  # the newest finished run of each DAG seen


Source = Callable[[Backends, Sweep, datetime], Awaitable[None]]


async def sweep(backends: Backends, *, now: datetime) -> Sweep:
    """Read every source at once and record the findings; returns what was found and not read."""
    result = Sweep()
    await _read(backends, result, now, dict(zip(SOURCES, (_runs, _tests, _stale, _migrations), strict=True)))
    await _read(backends, result, now, {RUN_TESTS: _run_tests})  # needs the runs the orchestrator gave
    # A failure seen anywhere keeps its incident open: a test that passed in one place and failed in
    # another within the same sweep is not resolved.
    result.cleared -= {f.key for f in result.found}
    result.marks |= {
        f"watch:read:{name}": now for name in (*SOURCES, RUN_TESTS) if name not in result.unreadable
    }
    result.marks[SWEPT] = now
    store = Incidents(backends.state.engine)
    await store.observe(result.found, result.cleared, now)
    for name, at in result.marks.items():
        await store.set_mark(name, at)
    return result


async def _read(backends: Backends, result: Sweep, now: datetime, sources: Mapping[str, Source]) -> None:
    outcomes = await asyncio.gather(
        *(read(backends, result, now) for read in sources.values()), return_exceptions=True
    )
    for name, outcome in zip(sources, outcomes, strict=True):
        if isinstance(outcome, (BackendUnavailable, CatalogMissing, OSError)):
            result.unreadable[name] = str(outcome) or type(outcome).__name__
        elif isinstance(outcome, BaseException):
            log.error("the %s could not be read", name, exc_info=outcome)
            result.unreadable[name] = f"unexpected error ({type(outcome).__name__})"


@dataclass(frozen=True)
class LastSweep:
    at: datetime
    unread: tuple[str, ...]  # the sources that sweep could not read


async def last_sweep(store: Incidents) -> LastSweep | None:
    """When the watcher last swept (any replica), and which sources it could not read then: what the
    incidents on record can be trusted for. None: it never swept."""
    at = await store.mark(SWEPT)
    if at is None:
        return None
    read = {name: await store.mark(f"watch:read:{name}") for name in (*SOURCES, RUN_TESTS)}
    return LastSweep(at, tuple(name for name, good in read.items() if good is None or good < at))


async def watched_dags(backends: Backends) -> list[str]:
    dags = set(backends.catalog.dags())
    if backends.settings.alert_dags:  # globs need the orchestrator's list: one call, only when configured
        known = await backends.orchestrator.list_dags()
        dags |= {d for d in known if any(fnmatchcase(d, g) for g in backends.settings.alert_dags)}
    return sorted(dags)


async def _since(backends: Backends, mark: str, now: datetime) -> datetime:
    last = await Incidents(backends.state.engine).mark(mark)
    return (last - OVERLAP) if last else now - FIRST_LOOK_BACK


async def _runs(backends: Backends, result: Sweep, now: datetime) -> None:
    since = await _since(backends, "watch:runs", now)
    reports = await backends.orchestrator.runs_ended_since(await watched_dags(backends), since)
    newest: dict[str, RunReport] = {}
    for report in reports:  # newest first: the first run seen of a DAG decides
        newest.setdefault(report.run.dag_id, report)
    for dag, report in newest.items():
        if report.run.state == "success":
            result.cleared.add(f"run:{dag}")
        elif report.run.state == "failed":
            result.found.append(_run_finding(backends, report))
    result.runs = [report.run for report in newest.values()]
    result.marks["watch:runs"] = now


def _run_finding(backends: Backends, report: RunReport) -> Finding:
    run = report.run
    entities = sorted(backends.catalog.dags().get(run.dag_id, []), key=lambda e: e.name)
    first = entities[0] if entities else None
    production = any(fnmatchcase(run.dag_id, p) for p in backends.settings.run_production)
    failed = ", ".join(f"`{t}`" for t in report.failed_tasks) or "no task named"
    return Finding(
        key=f"run:{run.dag_id}",
        kind="run",
        subject=run.dag_id,
        summary=f"DAG `{run.dag_id}` failed (run `{run.run_id}`): {failed}",
        severity="critical" if production else "warning",
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
    )


async def _tests(backends: Backends, result: Sweep, now: datetime) -> None:
    since = await _since(backends, "watch:tests", now)
    newest = {r.unique_id: r for r in await TestResults(backends.state.engine).results_since(since)}
    by_model = entities_by_model(backends.catalog)
    for uid, stored in newest.items():
        entity = by_model.get(stored.model or "")
        dag = entity.dag if entity else None
        finding = test_finding(
            stored, entity, owner=stored.owner, dag=dag, detail={"run_key": stored.run_key}
        )
        if finding is None:
            result.cleared.add(test_key(uid))
        else:
            result.found.append(finding)
    result.marks["watch:tests"] = now


async def _run_tests(backends: Backends, result: Sweep, _now: datetime) -> None:
    """The tests of the newest run of each DAG seen, from the results its tasks kept: a run whose
    test task failed names the failing tests, and a run that passed resolves them."""
    if backends.run_results is None or not result.runs:
        return
    runs = {run.ref: run for run in result.runs}
    read = await backends.run_results.tests_of(list(runs), backends.catalog.nodes)
    found, cleared = run_test_findings(backends.catalog, read.tests, runs)
    result.found += found
    result.cleared |= cleared
    if read.unreadable:
        result.unreadable[RUN_TESTS] = named(read.unreadable)


async def _stale(backends: Backends, result: Sweep, now: datetime) -> None:
    entities = [e for e in backends.catalog.entities.values() if e.freshness_sla_hours is not None]
    statuses = await backends.stats.status(entities) if entities else []
    # Kept so a question about a past moment is answered from what was seen then (commands/ask).
    await FreshnessHistory(backends.state.engine).record(samples(statuses, now))
    for status in statuses:
        entity, key = status.entity, f"stale:{status.entity.name}"
        if status.fresh is None:
            continue
        if status.fresh:
            result.cleared.add(key)
            continue
        result.found.append(
            Finding(
                key=key,
                kind="stale",
                subject=entity.name,
                summary=f"`{entity.name}` is stale: last load {age(status.age)} ago "
                f"(SLA {hours(entity.freshness_sla_hours)})",
                entity=entity.name,
                dag=entity.dag,
                owner=entity.owner,
                channel=entity.support_channel,
                detail={"model": entity.unique_id, "last_loaded_at": str(status.last_loaded_at)},
            )
        )


async def _migrations(backends: Backends, result: Sweep, now: datetime) -> None:
    ledger = Ledger.on(backends.state, backends.settings.migrations)
    for spec in ledger.specs.values():
        progress = await ledger.progress(spec.name, now=now)
        key = f"migration:{spec.name}"
        problems = _migration_problems(progress.state, progress.failed, progress.valid)
        if not problems:
            result.cleared.add(key)
            continue
        result.found.append(
            Finding(
                key=key,
                kind="migration",
                subject=spec.name,
                summary=f"migration `{spec.name}`: {', '.join(problems)}",
                severity="critical" if progress.valid is False else "warning",
                channel=spec.channel,
                detail={"target": progress.target},
            )
        )


def _migration_problems(state: str, failed: int, valid: bool | None) -> Sequence[str]:
    problems = []
    if state == "stalled":
        problems.append("stalled")
    if failed:
        problems.append(f"{failed:,} chunk(s) failed")
    if valid is False:
        problems.append("validation failing")
    return problems
