"""The failure watcher: one sweep reads every source and turns what it finds into incidents.

Sources: the orchestrator's runs of every known DAG (one batch call, scheduled runs included), their
schedules (paused, missing and stuck DAGs: stopped.py), the stored dbt test results, entity freshness
from the stats service (within its cache) and the migration ledger; then, when AMD_DBT_RESULTS_DIR is
set, the dbt results the runs just seen left there. Runs and tests are read since a stored mark, so
nothing that happened while the bot was down is missed; the runs' mark is the newest end date the
orchestrator gave, so the bot's clock never skips a run. A source that cannot be read is named, never
taken for "all green".
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fnmatch import fnmatchcase

from bot.alerts.runs_seen import run_findings
from bot.alerts.stopped import stopped_dags
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
from bot.foundation.ports import BackendUnavailable, RunState
from bot.migration.ledger import Ledger
from bot.render.format import age, hours
from bot.state.freshness import FreshnessHistory
from bot.state.incidents import Cleared, Finding, Incidents
from bot.state.results import TestResults

log = logging.getLogger(__name__)
# Runs and results read again from a little before the mark: a run that ended just before the last
# sweep but was written after it (a slow commit, a run that ended while another was read) is not skipped.
OVERLAP = timedelta(minutes=5)
SOURCES = ("orchestrator", "DAG schedules", "dbt test results", "warehouse", "migrations")
RUNS = "watch:runs:ended"  # the newest end date of a run read, in the orchestrator's own time
SWEPT = "watch:swept"  # the mark of the last sweep; `watch:read:<source>` that of its last good read


@dataclass
class Sweep:
    found: list[Finding] = field(default_factory=list)
    cleared: dict[str, Cleared] = field(default_factory=dict)  # by key
    unreadable: dict[str, str] = field(default_factory=dict)  # source -> why it could not be read
    marks: dict[str, datetime] = field(default_factory=dict)  # marks to move once this is recorded
    runs: list[RunState] = field(default_factory=list)  # the newest finished run of each DAG seen
    dags: asyncio.Future[list[str]] | None = None  # the watched DAGs, read once for every source

    async def watched(self, backends: Backends) -> list[str]:
        if self.dags is None:
            self.dags = asyncio.ensure_future(watched_dags(backends))
        return await asyncio.shield(self.dags)

    def clear(self, *healthy: Cleared) -> None:
        """Sources healthy for these keys; of two readings of one key, the newer counts."""
        for h in healthy:
            old = self.cleared.get(h.key)
            if old is None or h.observed_at is None or (old.observed_at or h.observed_at) <= h.observed_at:
                self.cleared[h.key] = h


Source = Callable[[Backends, Sweep, datetime], Awaitable[None]]


async def sweep(backends: Backends, *, now: datetime) -> Sweep:
    """Read every source at once and record the findings; returns what was found and not read."""
    result = Sweep()
    reads = (_runs, _stopped, _tests, _stale, _migrations)
    await _read(backends, result, now, dict(zip(SOURCES, reads, strict=True)))
    await _read(backends, result, now, {RUN_TESTS: _run_tests})  # needs the runs the orchestrator gave
    # A failure seen anywhere keeps its incident open unless it was healthy later: a test that failed
    # in one place and passed at the same time in another within the same sweep is not resolved.
    for f in result.found:
        if (healthy := result.cleared.get(f.key)) and (healthy.observed_at or now) <= (f.observed_at or now):
            del result.cleared[f.key]
    result.marks |= {
        f"watch:read:{name}": now for name in (*SOURCES, RUN_TESTS) if name not in result.unreadable
    }
    result.marks[SWEPT] = now
    store = Incidents(backends.state.engine)
    await store.observe(result.found, result.cleared.values(), now)
    await store.set_marks(result.marks)
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
    return (last - OVERLAP) if last else now - timedelta(hours=backends.settings.alert_lookback_h)


async def _runs(backends: Backends, result: Sweep, now: datetime) -> None:
    since = await _since(backends, RUNS, now)
    reports = await backends.orchestrator.runs_ended_since(await result.watched(backends), since)
    found, cleared = run_findings(backends, reports)
    result.found += found
    result.clear(*cleared)
    newest = {r.run.dag_id: r.run for r in reports if r.run.finished}  # in the order they ended
    result.runs = list(newest.values())
    if ended := [r.run.ended_at for r in reports if r.run.ended_at]:
        result.marks[RUNS] = max(ended)


async def _stopped(backends: Backends, result: Sweep, now: datetime) -> None:
    found, cleared = await stopped_dags(backends, await result.watched(backends), now)
    result.found += found
    result.clear(*cleared)


async def _tests(backends: Backends, result: Sweep, now: datetime) -> None:
    since = await _since(backends, "watch:tests", now)
    newest = {r.unique_id: r for r in await TestResults(backends.state.engine).results_since(since)}
    by_model = entities_by_model(backends.catalog)
    for uid, stored in newest.items():
        entity = by_model.get(stored.model or "")
        dag = entity.dag if entity else None
        detail = {"run_key": stored.run_key}
        finding = test_finding(stored, entity, owner=stored.owner, dag=dag, detail=detail, at=stored.at)
        if finding is None:
            result.clear(Cleared(test_key(uid), stored.at))
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
    result.clear(*cleared)
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
            result.clear(Cleared(key))
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
            result.clear(Cleared(key))
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
