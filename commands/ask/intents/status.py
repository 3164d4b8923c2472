"""A known subject asked about with no clear intent ("payment?", "how's user looking", a link to its
DAG): its status summary in one short reply — freshness, last run, tests, open incidents, owner and
support channel. Each part is checked against the action its command needs; a part the asker may not
read is said to be left out, never shown."""

from __future__ import annotations

from bot.core.command import Ctx
from bot.foundation.catalog import Catalog, Entity
from bot.render import format as fmt
from bot.state.incidents import Incidents
from bot.state.results import FAILED, TestResults
from commands.alerts import unresolved
from commands.ask import causes
from commands.ask.access import alerts_of, left_out, may
from commands.ask.intent import Answer, Intent, Question, stats_read
from commands.ask.intents import freshness, overall, runs
from commands.ask.intents.runs import latest_line


async def entity_lines(entity: Entity, ctx: Ctx) -> list[str]:
    """Freshness, last run, tests and incidents of one entity the asker may `stats`."""
    [status] = await ctx.backends.stats.status([entity])
    lines = [freshness.line(status)]
    hidden = 0
    if entity.dag and may(ctx, f"runs:{entity.dag}"):
        lines.append(f"Last run: {await latest_line(entity.dag, ctx)}")
    elif entity.dag:
        hidden += 1
    if may(ctx, f"test:{entity.name}"):
        lines.append(await _tests(entity, ctx))
    else:
        hidden += 1
    if may(ctx, alerts_of(entity.name, None)):
        found = await unresolved(Incidents(ctx.backends.state.engine), entity=entity.name, owner=None)
        lines.append(
            f":rotating_light: {len(found)} open incident(s): " + "; ".join(i.summary for i in found[:2])
            if found
            else "No open incidents."
        )
    else:
        hidden += 1
    owner = entity.owner or "nobody in dbt"
    lines.append(f"Owner: {owner} · support channel: {entity.support_channel or '—'}")
    if hidden:
        lines.append(f"_{hidden} part(s) you may not read left out._")
    return lines


async def _tests(entity: Entity, ctx: Ctx) -> str:
    latest = await TestResults(ctx.backends.state.engine).latest(entity.tests)
    if not latest:
        return f"Tests: no results stored for its {len(entity.tests)} dbt tests."
    bad = [t for t in latest if t.status in FAILED]
    if not bad:
        return f":white_check_mark: Tests: all {len(latest)} with results passed."
    named = ", ".join(f"`{t.name}` ({fmt.counted(t.failures, 'row')})" for t in bad[:3])
    return f":x: Tests: {len(bad)} of {len(latest)} failing: {named}."


# Asked of a DAG no entity declares (the engine answers its status instead): what it does not have.
_ENTITY_FACT = {
    "freshness": "freshness",
    "history": "freshness history",
    "owner": "owner",
    "meaning": "meaning",
    "lineage": "lineage",
    "volume": "row count",
}


async def fetch(question: Question, ctx: Ctx) -> Answer:
    catalog, now = ctx.catalog, ctx.now()
    source = "the warehouse, the orchestrator, stored dbt test results and the watcher's incidents"
    if question.entity is not None and question.why:
        return await causes.answer(catalog.entities[question.entity], ctx)
    if question.entity is not None:
        entity = catalog.entities[question.entity]
        lines = await entity_lines(entity, ctx)
        return Answer((f"*`{entity.name}`*", *lines), source, now, f"stats {entity.name}", entity.name)
    if question.subjects.dag is not None:  # a DAG no entity declares: its last run is its status
        not_known = [_ENTITY_FACT[i] for i in question.intents if i in _ENTITY_FACT]
        return await runs.dag_answer(question.subjects.dag, ctx, not_known=not_known)
    owner = question.subjects.owner
    if owner is None:  # a column several entities have, or nothing known after all
        return await overall.fetch(question, ctx)
    owned = [e for e in catalog.entities.values() if owner is not None and e.owner == owner]
    readable = [e for e in owned if may(ctx, f"stats:{e.name}")]
    statuses = await ctx.backends.stats.status(readable)
    lines = [freshness.line(s) for s in statuses] or [f"{owner} owns no entity you may read."]
    if may(ctx, alerts_of(None, owner)):
        found = await unresolved(Incidents(ctx.backends.state.engine), entity=None, owner=owner)
        lines.append(f"{len(found)} open incident(s) for {owner}.")
    lines += left_out(len(owned) - len(readable))
    return Answer((f"*{owner}*", *lines), source, now, f"alerts {owner}")


def _reads(question: Question, catalog: Catalog) -> tuple[str, ...]:
    """An entity's status is what `/amd stats` shows; a DAG's alone is its runs."""
    if question.subjects.dag and not question.entity:
        return runs.reads(question, catalog)
    return stats_read(question, catalog)


INTENT = Intent(
    name="status",
    label="Status",
    words=frozenset(),
    phrases=(),
    subject="any",
    fetch=fetch,
    reads=_reads,
)
