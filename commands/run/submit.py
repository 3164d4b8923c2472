"""The run form's handlers: opening it (for `/amd run <dag>` without conf, a confirmation's Edit
parameters, a failed run card's Re-run with parameters) and its submission.

A submission is checked against the DAG's params as they are now: a form whose params changed since
it opened is refused, a wrong value is answered at its input, and a valid one goes on to the same
confirmation as typed `key=value` words (one run id per confirmation: nothing starts twice).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from bot.alerts.lineage import downstream_models
from bot.core.command import Ctx
from bot.foundation.errors import UsageError
from bot.foundation.ports import BackfillOptions, DagParam, DagRunRef
from bot.render.message import Message, note
from commands.run import backfill, confirm
from commands.run.form import FROM, LOGICAL_DATE, FormState, digest, read_submission, run_form
from commands.run.store import Confirmations

MAX_MODELS_NAMED = 12
NOT_OPENED = "Slack did not open the form (it allows 3 seconds): press the button again."


async def open_run_form(
    ctx: Ctx,
    dag: str,
    params: Sequence[DagParam],
    *,
    entity: str | None = None,
    conf: Mapping[str, Any] | None = None,
    logical_date: datetime | None = None,
    edit: str | None = None,
    note_text: str = "",
) -> bool:
    schedules = await ctx.backends.orchestrator.dag_schedules([dag])
    scheduled = any(s.next_run_after for s in schedules)  # a backfill makes its scheduled runs
    form_id = uuid.uuid4().hex[:16]
    state = FormState(form_id, dag, ctx.user, ctx.channel, digest(params), entity, edit, days=scheduled)
    named = f"`{dag}`" + (f" (entity `{entity}`)" if entity else "")
    intro = f"Run {named} in {ctx.backends.orchestrator.environment}. {note_text}".strip()
    form = run_form(
        state, params, conf=conf or {}, logical_date=logical_date or _this_minute(ctx), intro=intro
    )
    return await ctx.surface.open_form(form)


async def press_form(value: str, ctx: Ctx) -> Message | None:
    state = FormState.load(value)
    ctx.audit_detail.update(dag_id=state.dag, form=state.form)
    if ctx.user != state.requester:
        await ctx.surface.answer_form({})
        raise UsageError(f"Only <@{state.requester}>, who opened this form, can submit it.")
    params = await ctx.backends.orchestrator.dag_params(state.dag)
    if digest(params) != state.params:
        changed = f"`{state.dag}`'s params changed since this form opened: close it and run it again."
        await ctx.surface.answer_form({LOGICAL_DATE: changed})
        ctx.audit_detail["refused"] = "params changed"
        return None
    conf, moment, days, problems = read_submission(params, ctx.form_values or {}, now=ctx.now())
    if days and (why := _no_backfill(ctx, state.dag, days)):
        problems[FROM] = why
    await ctx.surface.answer_form(problems)  # Slack's 3 s: the answer first, the confirmation after
    if problems:
        ctx.audit_detail["problems"] = sorted(problems)
        return None
    if not await ctx.backends.state.claim(f"run-form:{state.form}"):
        return note("This form was submitted already: its confirmation was sent the first time.")
    if state.edit and (refusal := await _supersede(state.edit, ctx)):
        return refusal
    if days:  # the same confirmation, access and audit as `--from`/`--to`
        first, last = days
        return await backfill.ask(
            ctx,
            dag=state.dag,
            entity=state.entity,
            conf=conf,
            start=first,
            end=last,
            options=BackfillOptions(),
        )
    return await confirm.ask(ctx, dag=state.dag, entity=state.entity, conf=conf, logical_date=moment)


def _no_backfill(ctx: Ctx, dag: str, days: tuple[date, date]) -> str | None:
    """Why these days cannot be backfilled from this form: the access rules (the router checked only
    `run.form:<dag>`, since the days are in the values) or AMD_BACKFILL_MAX_RUNS."""
    decision = ctx.backends.policy.check(f"run.backfill:{dag}", user=ctx.user, channel=ctx.channel)
    if not decision.allowed:
        ctx.audit_detail["refused"] = f"run.backfill:{dag}"
        return f"You may not backfill `{dag}` here: {decision.reason}."
    count, limit = len(backfill.days_of(*days)), ctx.backends.settings.backfill_max_runs
    return (
        f"That is {count} days; a backfill takes at most {limit} (AMD_BACKFILL_MAX_RUNS)."
        if count > limit
        else None
    )


async def press_edit(value: str, ctx: Ctx) -> Message | None:
    """A confirmation's Edit parameters: the form, prefilled with what the confirmation would run."""
    c = await confirm.find_confirmation(Confirmations(ctx.backends.state.engine), value, ctx)
    if c.state != "pending" or c.lapsed:
        why = "expired" if c.state == "pending" else c.state
        raise UsageError(f"This confirmation is {why}; ask again with `/amd run {c.dag}`.")
    params = await ctx.backends.orchestrator.dag_params(c.dag)
    if not await open_run_form(ctx, c.dag, params, conf=c.conf, logical_date=c.logical_date, edit=c.id):
        raise UsageError(NOT_OPENED)
    return None


async def press_again(value: str, ctx: Ctx) -> Message | None:
    """A failed run card's Re-run with parameters: a new run, its form prefilled with the failed one's
    conf and logical date, saying which models it rebuilds."""
    dag, _, run_id = value.partition(" ")
    ctx.audit_detail.update(dag_id=dag, dag_run_id=run_id)
    orchestrator = ctx.backends.orchestrator
    runs = await orchestrator.get_runs([DagRunRef(dag, run_id)])
    if not runs:
        raise UsageError(f"Run `{run_id}` is unknown to {orchestrator.environment}.")
    params = await orchestrator.dag_params(dag)
    models = _rebuilt(ctx, dag)
    shown = ", ".join(f"`{m}`" for m in models[:MAX_MODELS_NAMED])
    more = f" and {len(models) - MAX_MODELS_NAMED} more" if len(models) > MAX_MODELS_NAMED else ""
    text = f"A new run with the conf of `{run_id}`" + (f"; it rebuilds {shown}{more}." if models else ".")
    opened = await open_run_form(
        ctx, dag, params, conf=runs[0].conf, logical_date=runs[0].logical_date, note_text=text
    )
    if not opened:
        raise UsageError(NOT_OPENED)
    return None


def _this_minute(ctx: Ctx) -> datetime:
    return ctx.now().replace(second=0, microsecond=0)  # pickers show minutes: seconds would be hidden


def _rebuilt(ctx: Ctx, dag: str) -> list[str]:
    """The DAG's models and every model built from them (dbt lineage)."""
    catalog = ctx.catalog
    start = {e.unique_id for e in catalog.dags().get(dag, [])}
    if not start and (entity := catalog.entities.get(dag)):
        start = {entity.unique_id}  # the local runner's DAG of an entity without meta.dag
    return downstream_models(catalog, start) if start else []


async def _supersede(cid: str, ctx: Ctx) -> Message | None:
    """The confirmation an edit replaces is cancelled first; if it was triggered meanwhile, the edit
    is refused rather than starting a second run."""
    store = Confirmations(ctx.backends.state.engine)
    if await store.decide(cid, "cancelled", by=ctx.user):
        return None
    earlier = await store.get(cid)
    if earlier is not None and earlier.state == "triggered":
        return note(
            f"Too late to edit: <@{earlier.decided_by}> triggered it already as run `{earlier.dag_run_id}`; "
            "nothing else was started."
        )
    return None  # expired or cancelled: the new confirmation stands on its own
