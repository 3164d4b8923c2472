"""A data-status question about nothing in particular ("all good this morning?", "is anything broken?"):
every kind of finding — stale entities, failed runs, failing tests, stalled migrations, open incidents —
of what the asker may read. "All clear" only when every source was read and none found anything; a
source that could not be read is named, never taken for green."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from bot.alerts.watch import last_sweep
from bot.core.command import Ctx
from bot.foundation.catalog import CatalogMissing
from bot.foundation.ports import BackendUnavailable
from bot.render import format as fmt
from bot.state.incidents import Incidents
from bot.state.results import FAILED, TestResults
from commands.alerts import unresolved
from commands.ask.access import alerts_of, may, readable, stats_of, test_of
from commands.ask.intent import Answer, Intent, Question
from commands.migration import ledger_of

RECENT = timedelta(hours=24)
SHOWN = 3
Finder = Callable[[Ctx], Awaitable[tuple[list[str], int]]]  # findings, subjects left out


def _names(names: list[str]) -> str:
    shown = ", ".join(f"`{n}`" for n in names[:SHOWN])
    return shown + (f" and {len(names) - SHOWN} more" if len(names) > SHOWN else "")


async def _stale(ctx: Ctx) -> tuple[list[str], int]:
    entities, hidden = readable(ctx, list(ctx.catalog.entities.values()), stats_of)
    stale = [s.entity.name for s in await ctx.backends.stats.status(entities) if s.fresh is False]
    return ([f":x: Stale: {_names(stale)}"] if stale else []), hidden


async def _runs(ctx: Ctx) -> tuple[list[str], int]:
    dags, hidden = readable(ctx, sorted(ctx.catalog.dags()), lambda d: f"runs:{d}")
    now = ctx.now()
    runs = await ctx.backends.orchestrator.latest_runs(dags, 1) if dags else []
    failed = [r.dag_id for r in runs if r.state == "failed" and r.started_at and now - r.started_at <= RECENT]
    return ([f":x: Failed runs (last 24 h): {_names(failed)}"] if failed else []), hidden


async def _tests(ctx: Ctx) -> tuple[list[str], int]:
    by_model = {e.unique_id: e for e in ctx.catalog.entities.values()}
    latest = await TestResults(ctx.backends.state.engine).latest()
    mine = [t for t in latest if (e := by_model.get(t.model or "")) is None or may(ctx, test_of(e))]
    bad = [t.name for t in mine if t.status in FAILED]
    return ([f":x: Failing dbt tests: {_names(bad)}"] if bad else []), len(latest) - len(mine)


async def _migrations(ctx: Ctx) -> tuple[list[str], int]:
    ledger = ledger_of(ctx.backends)
    names, hidden = readable(ctx, list(ledger.specs), lambda n: f"migration:{n}")
    stuck = []
    for name in names:
        progress = await ledger.progress(name, now=ctx.now())
        if progress.state == "stalled" or progress.failed or progress.valid is False:
            stuck.append(name)
    return ([f":warning: Migrations stalled or failing: {_names(stuck)}"] if stuck else []), hidden


async def _incidents(ctx: Ctx) -> tuple[list[str], int]:
    store = Incidents(ctx.backends.state.engine)
    if await last_sweep(store) is None:
        raise BackendUnavailable("the failure watcher has not swept yet")
    every = await unresolved(store, entity=None, owner=None)
    found = [i for i in every if may(ctx, alerts_of(i.entity, i.owner))]
    open_ = [i for i in found if i.state_at(ctx.now()) == "open"]
    lines = [f":rotating_light: {len(open_)} open incident(s): {_names([i.subject for i in open_])}"]
    return (lines if open_ else []), len(every) - len(found)


SOURCES: dict[str, Finder] = {
    "freshness (the warehouse)": _stale,
    "runs (the orchestrator)": _runs,
    "dbt test results": _tests,
    "migrations": _migrations,
    "incidents (the failure watcher)": _incidents,
}


async def fetch(question: Question, ctx: Ctx) -> Answer:
    found: list[str] = []
    unread: list[str] = []
    hidden = 0
    for name, finder in SOURCES.items():
        try:
            lines, left = await finder(ctx)
        except (BackendUnavailable, CatalogMissing, OSError) as exc:
            unread.append(f"{name}: {exc}")
            continue
        found += lines
        hidden += left
    if not found and not unread:
        head = ":white_check_mark: All clear: nothing stale, failed, failing, stalled or open."
    elif not found:
        head = ":grey_question: Nothing found in what I could read, but not all clear:"
    else:
        head = f"{fmt.counted(len(found), 'kind')} of trouble:"
    lines = [head, *found, *(f":grey_question: could not read {u}" for u in unread)]
    if hidden:
        lines.append(f"_{fmt.counted(hidden, 'subject')} you may not read left out._")
    source = "the warehouse, the orchestrator, dbt test results, the migration ledger and the watcher"
    return Answer(tuple(lines), source, ctx.now(), "home")


INTENT = Intent(
    name="overall",
    label="Overall status",
    words=frozenset(),
    phrases=(),
    subject="any",
    fetch=fetch,
)
