"""`/amd run <dag|entity> [key=value …] [--date YYYY-MM-DD]` · `/amd run status [dag]`.

Parsing (commands/run/args.py) resolves names from the catalog only, before the ack. The handler then
checks every DAG against the orchestrator (one `list_dags`) and answers a typo with a suggestion.
Nothing starts before a confirmation (commands/run/confirm.py); the run's card is then refreshed by
`refresh`, for all run cards at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, time
from typing import TYPE_CHECKING

from bot.core.cards import CardUpdate, LiveCard
from bot.core.command import Action, Command, Ctx
from bot.foundation.errors import UsageError
from bot.foundation.ports import BackendUnavailable, DagRunRef, Orchestrator, TaskState
from bot.foundation.suggest import unknown
from bot.render.message import Message
from commands.run import backfill, confirm, submit, views
from commands.run.args import STATUS_RUNS, RunArgs, parse
from commands.run.form import FormState
from commands.run.params import check_conf

if TYPE_CHECKING:
    from bot.core.backends import Backends

log = logging.getLogger(__name__)


async def handle(args: RunArgs, ctx: Ctx) -> Message | None:
    orchestrator = ctx.backends.orchestrator
    known = await _known_dags(args, ctx)
    if args.mode == "status":
        dags = [args.dag] if args.dag else sorted(known)
        return views.status_card(args.dag, await orchestrator.latest_runs(dags, STATUS_RUNS), now=ctx.now())
    assert args.dag is not None  # RunArgs guarantees it for a trigger
    params = await orchestrator.dag_params(args.dag)
    day = datetime.combine(args.logical_date, time(), UTC) if args.logical_date else None
    # No words after the DAG: its params are asked in a form, whose submission asks to confirm.
    bare = not args.conf and day is None and args.start is None
    if params and bare and await submit.open_run_form(ctx, args.dag, params, entity=args.entity):
        return None
    conf = check_conf(args.dag, params, args.conf, args.typed)
    if args.start and args.end:
        return await backfill.ask(
            ctx,
            dag=args.dag,
            entity=args.entity,
            conf=conf,
            start=args.start,
            end=args.end,
            options=args.options,
        )
    return await confirm.ask(ctx, dag=args.dag, entity=args.entity, conf=conf, logical_date=day)


async def _known_dags(args: RunArgs, ctx: Ctx) -> set[str]:
    """Every DAG the orchestrator has, plus the catalog's; a DAG the user named must be one of them."""
    known = set(await ctx.backends.orchestrator.list_dags())
    if args.dag is not None and args.dag not in known:
        catalog = ctx.catalog
        where = ctx.backends.orchestrator.environment
        if args.verified:
            raise UsageError(f"`{args.dag}` is in the dbt catalog but {where} has no such DAG.")
        if args.entity is not None:
            raise UsageError(
                f"Entity `{args.entity}` has no DAG: set `meta.dag` on the model to the DAG that builds it "
                f"in {where} (for many models at once: `+meta: {{dag: …}}` in dbt_project.yml)."
            )
        message, _ = unknown("DAG or entity", args.dag, [*catalog.entity_names(), *catalog.dags(), *known])
        raise UsageError(message)
    return known | set(ctx.catalog.dags())


async def refresh(cards: Sequence[LiveCard], backends: Backends) -> Mapping[int, CardUpdate]:
    """Every followed run with ONE get_runs; task states only of runs that run or changed state."""
    orchestrator = backends.orchestrator
    updates: dict[int, CardUpdate] = {}
    for card in [c for c in cards if c.key.partition("/")[2].startswith(backfill.BACKFILL)]:
        try:
            updates[card.id] = await backfill.refresh_card(card, backends)
        except BackendUnavailable as exc:
            log.warning("backfill card %s not refreshed this tick: %s", card.key, exc)
    cards = [c for c in cards if c.id not in updates]
    refs = {card.id: _ref(card) for card in cards}
    try:
        runs = {run.ref: run for run in await orchestrator.get_runs(list(dict.fromkeys(refs.values())))}
    except BackendUnavailable as exc:
        log.warning("run cards not refreshed this tick: %s", exc)  # the next tick tries again
        return updates
    memos = {card.id: views.RunMemo.load(card.memo) for card in cards}
    stale = {
        refs[card.id]
        for card in cards
        if (run := runs.get(refs[card.id])) and (run.state == "running" or run.state != memos[card.id].state)
    }
    tasks = await _task_states(orchestrator, stale)
    environment = orchestrator.environment
    for card in cards:
        ref, memo = refs[card.id], memos[card.id]
        run = runs.get(ref)
        if run is None:
            updates[card.id] = CardUpdate(views.gone_card(ref.dag_id, ref.run_id, environment=environment))
            continue
        if ref in stale and ref not in tasks:
            continue  # its tasks could not be read; the card stays as it is until the next tick
        memo, changes = views.advance(memo, run, tasks.get(ref))
        message = views.run_card(run, memo, requester=card.requester, environment=environment)
        notes = (views.changes_note(changes),) if changes else ()
        updates[card.id] = CardUpdate(message, memo.dump(), notes)
    return updates


async def _task_states(orchestrator: Orchestrator, refs: set[DagRunRef]) -> dict[DagRunRef, list[TaskState]]:
    ordered = sorted(refs, key=lambda r: (r.dag_id, r.run_id))
    found = await asyncio.gather(*(orchestrator.task_states(r) for r in ordered), return_exceptions=True)
    result: dict[DagRunRef, list[TaskState]] = {}
    for ref, tasks in zip(ordered, found, strict=True):
        if isinstance(tasks, BaseException):
            log.warning("tasks of run %s of %s not read this tick: %s", ref.run_id, ref.dag_id, tasks)
        else:
            result[ref] = tasks
    return result


def _ref(card: LiveCard) -> DagRunRef:
    dag_id, _, run_id = card.key.partition("/")  # DAG ids have no "/": the first one separates
    return DagRunRef(dag_id, run_id)


def _permission(args: RunArgs) -> str:
    # Reading runs is `runs:…`, so a rule that denies `run:prod_*` (starting them) still lets people look.
    if args.mode == "status":
        return f"runs:{args.dag or '*'}"
    return f"run.backfill:{args.dag}" if args.start else f"run:{args.dag}"


def _trigger_permission(value: str) -> str:
    """RBAC for a confirmation's Trigger (or Re-run failed tasks) button; value `<confirmation id> <dag>`."""
    return f"run.trigger:{value.partition(' ')[2]}"


def _cancel_permission(value: str) -> str:
    """RBAC for a confirmation's Cancel button; value `<confirmation id> <dag>`."""
    return f"run.cancel:{value.partition(' ')[2]}"


def _rerun_permission(value: str) -> str:
    """RBAC for a failed run card's Re-run button, which asks first (value `<dag> <run id>`)."""
    return f"run.rerun:{value.partition(' ')[0]}"


def _form_permission(value: str) -> str:
    """RBAC for submitting the run form; value: the form's state (one that is not names no DAG, and
    its handler refuses it)."""
    try:
        return f"run.form:{FormState.load(value).dag}"
    except UsageError:
        return "run.form:"


def _edit_permission(value: str) -> str:
    """RBAC for a confirmation's Edit parameters button; value `<confirmation id> <dag>`."""
    return f"run.edit:{value.partition(' ')[2]}"


def _again_permission(value: str) -> str:
    """RBAC for a failed run card's Re-run with parameters (a new run; value `<dag> <run id>`)."""
    return f"run.again:{value.partition(' ')[0]}"


def _ack(args: RunArgs) -> str:
    if args.mode == "status":
        return "Reading the latest runs…"
    if args.verified or args.entity:  # an entity without meta.dag is a DAG of its own name (run_args)
        return f"Preparing the run of `{args.dag}`…"
    return f"Looking for DAG `{args.dag}`…"


command = Command(
    name=confirm.KIND,
    summary="Trigger a DAG run after a confirmation and follow it live; `run status` shows recent runs.",
    usage="run DAG|ENTITY [key=value …] [--date YYYY-MM-DD | --from YYYY-MM-DD --to YYYY-MM-DD "
    "[--reprocess none|failed|completed] [--max-active-runs N]] | run status [DAG|ENTITY]",
    examples=(
        "run payment",
        "run amd_user full_refresh=true batch=3",
        "run payment --date 2026-11-20",
        "run payment --from 2026-11-01 --to 2026-11-07",
        "run payment --from 2026-11-01 --to 2026-11-07 --reprocess failed --max-active-runs 2",
        "run payment full_refresh=true vars='{\"day\": 1}'",
        "run status",
        "run status payment",
    ),
    parse=parse,
    handle=handle,
    permission=_permission,
    ack=_ack,
    actions={
        "trigger": Action(confirm.press_trigger, _trigger_permission),
        "cancel": Action(confirm.press_cancel, _cancel_permission),
        "rerun": Action(confirm.press_rerun, _rerun_permission),
        "form": Action(submit.press_form, _form_permission),
        "edit": Action(submit.press_edit, _edit_permission),
        "again": Action(submit.press_again, _again_permission),
    },
    refresh=refresh,
    details="An entity runs its DAG. With nothing after it, a DAG with params opens its form; `key=value` "
    "words are checked against the same params (read as numbers or true/false when they look like one). "
    "Nothing starts before you press Trigger; only you or an admin can. Access: `run:<dag>` to ask, "
    "`run.trigger:<dag>` to press Trigger, `runs:<dag>` to read runs (README: every action name).",
)
