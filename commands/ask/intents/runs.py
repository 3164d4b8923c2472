"""Did a DAG run succeed? What broke in the last 24 h? From the orchestrator's latest runs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from bot.core.command import Ctx
from bot.foundation.catalog import Catalog
from bot.foundation.ports import RunState
from bot.foundation.suggest import unknown
from bot.render import format as fmt
from commands.ask import causes
from commands.ask.access import left_out, readable
from commands.ask.intent import Answer, Intent, Question, phrases
from commands.run.args import STATUS_RUNS
from commands.run.views import duration

RECENT = timedelta(hours=24)
_ICON = {"success": ":white_check_mark:", "failed": ":x:", "running": ":arrows_counterclockwise:"}


def _run(run: RunState) -> str:
    icon = _ICON.get(run.state, ":hourglass_flowing_sand:")
    link = f" · <{run.url}|open>" if run.url else ""
    started = fmt.when(run.started_at) if run.started_at else "not started"
    return f"{icon} `{run.dag_id}` {run.state}: started {started}, {duration(run)}{link}"


async def fetch(question: Question, ctx: Ctx) -> Answer:
    orchestrator = ctx.backends.orchestrator
    source, now = f"the orchestrator, {orchestrator.environment}", ctx.now()
    entity = ctx.catalog.entities[question.entity] if question.entity else None
    if entity is not None and question.why:  # "why did amd_payment fail?": failed tasks, failing tests
        return await causes.answer(entity, ctx)
    if entity is not None:
        if entity.dag is None:
            lines = (f"`{entity.name}` names no DAG that builds it (`meta.dag` in dbt), so I know no runs.",)
            return Answer(lines, "the dbt manifest", now, f"stats {entity.name}", subject=entity.name)
        lines = (await latest_line(entity.dag, ctx),)
        return Answer(lines, source, now, f"run status {entity.dag}", subject=entity.name)
    if question.subjects.dag is not None:
        return await dag_answer(question.subjects.dag, ctx)
    dags, hidden = readable(
        ctx, sorted(set(await orchestrator.list_dags()) | set(ctx.catalog.dags())), _runs_of
    )
    runs = await orchestrator.latest_runs(dags, STATUS_RUNS)
    recent = [r for r in runs if r.started_at and now - r.started_at <= RECENT]
    failed = [r for r in recent if r.state == "failed"]
    if failed:
        head = f":x: {len(failed)} of the last {len(recent)} runs in the last 24 h failed:"
        return Answer((head, *(_run(r) for r in failed), *left_out(hidden)), source, now, "run status")
    if not recent:
        return Answer(("No DAG ran in the last 24 h.", *left_out(hidden)), source, now, "run status")
    running = [r for r in recent if not r.finished]
    head = f":white_check_mark: Nothing failed in the last 24 h ({len(recent)} runs"
    head += f", {len(running)} still going)." if running else ")."
    return Answer((head, *(_run(r) for r in recent[:3]), *left_out(hidden)), source, now, "run status")


async def dag_answer(dag: str, ctx: Ctx, *, not_known: Sequence[str] = ()) -> Answer:
    """A DAG no entity declares ("did amd_nightly fail?"): its last run, with the failed tasks and
    tests of a failed one; a name the orchestrator does not know, with the nearest one it knows.
    `not_known`: what was asked of it that only an entity has (its owner, its freshness)."""
    orchestrator = ctx.backends.orchestrator
    source, now = f"the orchestrator, {orchestrator.environment}", ctx.now()
    known = set(await orchestrator.list_dags()) | set(ctx.catalog.dags())
    if dag not in known:
        text, _ = unknown("DAG", dag, known)
        return Answer((f":grey_question: {text}",), source, now, "run status")
    lines = await causes.dag_lines(dag, ctx)
    if not_known:
        asked = " or ".join(dict.fromkeys(not_known))
        lines.insert(0, f"`{dag}` builds no entity I know, so it has no {asked} of its own. Its latest run:")
    return Answer(tuple(lines), source, now, f"run status {dag}")


async def latest_line(dag: str, ctx: Ctx) -> str:
    runs = await ctx.backends.orchestrator.latest_runs([dag], 1)
    return _run(runs[0]) if runs else f"`{dag}` has no runs yet."


def _runs_of(dag: str) -> str:
    return f"runs:{dag}"


def reads(question: Question, catalog: Catalog) -> tuple[str, ...]:
    """`runs:<dag>` of the DAG asked about: the entity's, or the one named."""
    dag = catalog.entities[question.entity].dag if question.entity else question.subjects.dag
    return (_runs_of(dag),) if dag else ()


INTENT = Intent(
    name="runs",
    label="Latest run",
    words=frozenset(
        [
            "run",
            "runs",
            "ran",
            "dag",
            "dags",
            "pipeline",
            "pipelines",
            "job",
            "jobs",
            "succeed",
            "succeeded",
            "success",
            "successful",
            "fail",
            "failed",
            "failing",
            "failure",
            "crash",
            "crashed",
            "airflow",
            "composer",
            "stuck",
            "queued",
            "trigger",
            "triggered",
            "schedule",
            "scheduled",
            "task",
            "retry",
            "finish",
            "finished",
            "error",
            "errored",
            "timeout",
            "rerun",
            "reran",
            "kick",
            "kicked",
            "start",
            "started",
        ]
    ),
    # how it went, or how long it took: "how long did amd_purchase take tonight?"
    phrases=phrases(r"did (\S+ )?\S+ (work|finish|complete|go through)", r"how long did \S+ (take|run)"),
    subject="any",
    weak=phrases(r"24 ?h(ours?)?"),  # the runs' window, but any finding's too: "incidents last 24h?"
    fetch=fetch,
    reads=reads,
)
