"""Why an entity is stale or failed: causes, not the symptom again. The chain, each link a fact:
its last load; the newest row of each dbt source it is built from (their `loaded_at_field`), and of each
model straight on such a source that keeps that column (in the demo one per event type), so "the events
stopped arriving" is told apart from "its DAG failed" (last run, failed tasks) and "its DAG has not
run"; and its failing tests with their failing-row counts. One warehouse query reads every newest row."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from bot.core.command import Ctx
from bot.foundation.catalog import Entity
from bot.foundation.ports import BackendUnavailable, DagRunRef, EntityStats, Relation, StatsQuery
from bot.render import format as fmt
from bot.state.results import FAILED, TestResults
from commands.ask.access import may
from commands.ask.intent import Answer
from commands.ask.lineage_graph import upstream
from commands.stats import last_load

SOURCE = "the warehouse (newest rows upstream), the orchestrator and stored dbt test results"


def _feeds(entity: Entity, ctx: Ctx) -> list[StatsQuery]:
    """What to read the newest row of: each upstream source with a `loaded_at_field`, and each
    upstream model selecting straight from such a source that keeps the column."""
    catalog = ctx.catalog
    above = upstream(entity.unique_id, catalog.nodes)
    fields: dict[str, str] = {}
    queries = []
    for uid in sorted(above):
        source = catalog.sources.get(uid)
        field = _loaded_at(source) if source else None
        if source and field:
            fields[uid] = field
            name = f"{source.get('source_name')}.{source.get('name')}"
            relation = Relation(
                source.get("database"), source["schema"], source.get("identifier") or source["name"]
            )
            queries.append(StatsQuery(name, relation, field))
    for uid in sorted(above):
        node = catalog.nodes.get(uid, {})
        parents = node.get("depends_on", {}).get("nodes", [])
        field = next((fields[p] for p in parents if p in fields), None)
        if uid.startswith("model.") and field and field in str(node.get("raw_code", "")):
            relation = Relation(node.get("database"), node["schema"], node.get("alias") or node["name"])
            queries.append(StatsQuery(_events(node["name"]), relation, field))
    return queries


def _loaded_at(source: Mapping[str, Any]) -> str | None:
    field = source.get("loaded_at_field") or source.get("config", {}).get("loaded_at_field")
    return str(field) if field else None


def _events(model: str) -> str:
    """`stg_delivery_address_changed` → `delivery_address_changed` (dbt's staging naming convention)."""
    return model.removeprefix("stg_")


def _newest(row: EntityStats, sla: timedelta | None, now_: datetime) -> str:
    if row.last_loaded_at is None:
        return f"• no `{row.entity}` rows at all: nothing ever arrived"
    age = now_ - row.last_loaded_at
    if sla is not None and age > sla:
        return (
            f"• no `{row.entity}` events since {fmt.when(row.last_loaded_at)} ({fmt.age(age)} ago): "
            "the events stopped arriving"
        )
    return f"• newest `{row.entity}` row {fmt.when(row.last_loaded_at)} ({fmt.age(age)} ago): arriving"


async def _dag(entity: Entity, ctx: Ctx) -> list[str]:
    if entity.dag is None:
        return ["• no DAG builds it (`meta.dag`): nothing to have failed or not run"]
    return await dag_lines(entity.dag, ctx, called="its DAG ")


async def dag_lines(dag: str, ctx: Ctx, *, called: str = "") -> list[str]:
    """The DAG's last run; a failed one with its failed tasks and the tests those tasks failed."""
    orchestrator = ctx.backends.orchestrator
    runs = await orchestrator.latest_runs([dag], 1)
    if not runs:
        return [f"• {called}`{dag}` has not run: no runs at all"]
    run = runs[0]
    started = fmt.when(run.started_at) if run.started_at else "not started"
    if run.state == "failed":
        failed = [t.task_id for t in await orchestrator.task_states(run.ref) if t.state == "failed"]
        tasks = ", ".join(f"`{t}`" for t in failed) or "no task named"
        head = f"• {called}`{dag}` failed (run `{run.run_id}`, started {started}): failed tasks {tasks}"
        return [head, *await _run_tests(run.ref, ctx)]
    return [f"• {called}`{dag}` last ran {started}: {run.state}"]


async def _run_tests(run: DagRunRef, ctx: Ctx) -> list[str]:
    """The tests the failed run's own tasks failed, from the dbt results they kept."""
    if ctx.backends.run_results is None:
        return []
    read = await ctx.backends.run_results.tests_of([run], ctx.catalog.nodes)
    bad = [t for t in read.tests if t.outcome.status in FAILED]
    lines = [
        f"• failing test `{t.outcome.name}` (task `{t.task_id}`): {t.outcome.status}, "
        f"{fmt.counted(t.outcome.failures, 'failing row')}"
        for t in bad
    ]
    return lines + [f"• results not readable: {why}" for why in read.unreadable]


async def _tests(entity: Entity, ctx: Ctx) -> list[str]:
    latest = await TestResults(ctx.backends.state.engine).latest(entity.tests)
    bad = [t for t in latest if t.status in FAILED]
    if not latest:
        return [f"• no stored results for its {len(entity.tests)} dbt tests (`/amd test {entity.name}`)"]
    if not bad:
        return [f"• its {len(latest)} dbt tests with results pass"]
    return [f"• failing test `{t.name}`: {t.status}, {fmt.counted(t.failures, 'failing row')}" for t in bad]


async def answer(entity: Entity, ctx: Ctx) -> Answer:
    now = ctx.now()
    [status] = await ctx.backends.stats.status([entity])
    state = {True: "fresh", False: "stale", None: "of unknown freshness"}[status.fresh]
    lines = [f"`{entity.name}` is {state}, last load {last_load(status)}. What I followed:"]
    sla = timedelta(hours=entity.freshness_sla_hours) if entity.freshness_sla_hours else None
    feeds = _feeds(entity, ctx)
    try:
        lines += [_newest(row, sla, now) for row in await ctx.backends.warehouse.entity_stats(feeds)]
    except BackendUnavailable as exc:
        lines.append(f"• the newest upstream rows could not be read: {exc}")
    if not feeds:
        lines.append("• no dbt source with a `loaded_at_field` upstream: no events to follow")
    hidden = 0
    if entity.dag is None or may(ctx, f"runs:{entity.dag}"):
        lines += await _dag(entity, ctx)
    else:
        hidden += 1
    if may(ctx, f"test:{entity.name}"):
        lines += await _tests(entity, ctx)
    else:
        hidden += 1
    if hidden:
        lines.append(f"_{hidden} part(s) you may not read left out._")
    return Answer(tuple(lines), SOURCE, now, f"stats {entity.name}", entity.name)
