"""Confirmations of `/amd run` and their buttons: Trigger, Cancel, and a run card's Re-run failed tasks.

A confirmation is a row in amd_run_confirmations. Its Airflow dag_run_id is derived from the row's id,
so however often Trigger is pressed (a double click, a Slack retry, a press after a restart) Airflow
starts one run and answers every repeat with 409 (RunAlreadyExists). The row leaves `pending` once, by
a compare-and-set update, so a Trigger and a Cancel pressed together cannot both win.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from fnmatch import fnmatchcase
from typing import Any

from bot.alerts import threads
from bot.alerts.delivery import Sender
from bot.core import cards
from bot.core.command import Ctx
from bot.foundation.errors import UsageError
from bot.foundation.ports import BackendUnavailable, DagRunRef, RunAlreadyExists, RunState
from bot.render.message import Message, note
from commands.run import backfill, views
from commands.run.store import Confirmation, Confirmations, new_confirmation
from commands.run.views import RunMemo, confirmation_card, run_card

KIND = "run"  # the command's name, under which its live cards are stored and refreshed
_RERUN_STATES = ("failed", "upstream_failed")  # what clearing the failed tasks runs again


async def ask(
    ctx: Ctx, *, dag: str, entity: str | None, conf: Mapping[str, Any], logical_date: datetime | None
) -> Message:
    """The confirmation of a checked run (from the command's words or its form), or the run itself
    where settings let this DAG start without one."""
    settings = ctx.backends.settings
    c = new_confirmation(
        kind="trigger",
        dag=dag,
        requester=ctx.user,
        channel=ctx.channel,
        now=ctx.now(),
        ttl_s=settings.run_confirm_ttl_s,
        conf=conf,
        logical_date=logical_date,
    )
    ctx.audit_detail.update(dag_id=c.dag, dag_run_id=c.dag_run_id, confirmation=c.id)
    skip = _matches(dag, settings.run_skip_confirmation) and not _matches(dag, settings.run_production)
    if skip:
        c = replace(c, state="triggered", decided_by=ctx.user)
    c = await Confirmations(ctx.backends.state.engine).add(c)
    if skip:
        return await start_run(c, ctx, entity=entity)
    return views.confirmation_card(c, environment=ctx.backends.orchestrator.environment, entity=entity)


def _matches(dag: str, patterns: Sequence[str]) -> bool:
    return any(fnmatchcase(dag, p) for p in patterns)


async def press_trigger(value: str, ctx: Ctx) -> Message | None:
    store = Confirmations(ctx.backends.state.engine)
    c = await find_confirmation(store, value, ctx)
    if c.kind == "rerun":
        return await _confirm_rerun(store, c, ctx)
    won = await store.decide(c.id, "triggered", by=ctx.user)
    c = replace(c, state="triggered", decided_by=ctx.user) if won else await _reload(store, c, ctx.user)
    if c.state != "triggered":
        return views.closed(c)
    if c.kind == "backfill":
        return await backfill.start(c, ctx)
    return await start_run(c, ctx)


async def _confirm_rerun(store: Confirmations, c: Confirmation, ctx: Ctx) -> Message | None:
    """Clearing failed tasks has no idempotency key like a trigger's run id, so the press claims the
    confirmation first (a double click or a Cancel pressed meanwhile loses), and the row becomes
    `triggered` only once the orchestrator accepted the clear: on an error the question stays."""
    if c.state != "pending" or c.lapsed:
        c = await _reload(store, c, ctx.user)
        if c.state == "triggered":
            return views.reply(c, f"<@{c.decided_by}> re-ran the failed tasks of `{c.dag_run_id}` already.")
        return views.closed(c)
    claim = _rerun_claim(c)
    if not await ctx.backends.state.claim(claim):
        return None  # pressed twice at once: the press holding the claim answers
    try:
        cleared = await ctx.backends.orchestrator.clear_failed(DagRunRef(c.dag, c.dag_run_id))
    except BackendUnavailable as exc:
        await ctx.backends.state.release(claim)  # nothing was cleared: the next press may try
        ctx.audit_detail["error"] = str(exc)
        return confirmation_card(c, environment=ctx.backends.orchestrator.environment, problem=str(exc))
    if not cleared:
        await store.decide(c.id, "cancelled", by=ctx.user)
        return views.reply(c, f"Run `{c.dag_run_id}` has no failed tasks now: nothing to re-run.")
    await store.decide(c.id, "triggered", by=ctx.user)
    return await _follow_rerun(c, cleared, ctx)


async def press_cancel(value: str, ctx: Ctx) -> Message | None:
    store = Confirmations(ctx.backends.state.engine)
    c = await find_confirmation(store, value, ctx)
    if c.kind == "rerun" and not await ctx.backends.state.claim(_rerun_claim(c)):
        return views.reply(c, "Too late to cancel: the failed tasks are being re-run (or were).")
    if await store.decide(c.id, "cancelled", by=ctx.user):
        return views.reply(
            c, f"Cancelled: `{c.dag}` was not {'re-run' if c.kind == 'rerun' else 'triggered'}."
        )
    c = await _reload(store, c, ctx.user)
    if c.state == "triggered":
        return views.reply(
            c, f"Too late to cancel: <@{c.decided_by}> pressed it already (run `{c.dag_run_id}`)."
        )
    return views.closed(c)


async def press_rerun(value: str, ctx: Ctx) -> Message | None:
    """A failed run card's button: asks first, in the card's thread. Answering would replace the card."""
    dag, _, run_id = value.partition(" ")
    ref = DagRunRef(dag, run_id)
    ctx.audit_detail.update(dag_id=dag, dag_run_id=run_id)
    orchestrator = ctx.backends.orchestrator
    runs = await orchestrator.get_runs([ref])
    if not runs or runs[0].state != "failed":
        state = runs[0].state if runs else f"unknown to {orchestrator.environment}"
        await _in_thread(ctx, note(f"Run `{run_id}` is {state}: there is nothing to re-run."))
        return None
    failed = [t.task_id for t in await orchestrator.task_states(ref) if t.state in _RERUN_STATES]
    c = new_confirmation(
        kind="rerun",
        dag=dag,
        requester=ctx.user,
        channel=ctx.channel,
        now=ctx.now(),
        ttl_s=ctx.backends.settings.run_confirm_ttl_s,
        run_id=run_id,
    )
    c = await Confirmations(ctx.backends.state.engine).add(c)
    ctx.audit_detail["confirmation"] = c.id
    card = confirmation_card(c, environment=orchestrator.environment, failed_tasks=failed)
    await _in_thread(ctx, card)
    return None


async def start_run(c: Confirmation, ctx: Ctx, *, entity: str | None = None) -> Message:
    """Trigger the confirmed run (again, harmlessly, on a repeat) and post its card once."""
    orchestrator = ctx.backends.orchestrator
    ctx.audit_detail.update(dag_id=c.dag, dag_run_id=c.dag_run_id)
    try:
        run, first = await orchestrator.trigger(c.dag, c.dag_run_id, c.conf, c.logical_date), True
    except RunAlreadyExists as repeat:
        run, first = repeat.run, False
    except BackendUnavailable as exc:
        # Keep the buttons: a new confirmation would get a new run id, and if this trigger did land
        # (its answer lost), a second run. Pressing this one again is harmless.
        ctx.audit_detail["error"] = str(exc)
        return confirmation_card(c, environment=orchestrator.environment, entity=entity, problem=str(exc))
    await _post_card_once(c, run, ctx)
    if first:
        return note(
            f"Triggered `{c.dag}` in {orchestrator.environment} as run {views.link(run)}; "
            "its card in the channel follows it."
        )
    ctx.audit_detail["repeat"] = True
    return note(f"Already triggered: {views.link(run)} ({run.state}).")


async def _post_card_once(c: Confirmation, run: RunState, ctx: Ctx) -> None:
    # Two presses that both got here (the first trigger and a repeat after a crash, or a race) post one
    # card: the claim is the state store's unique key, whoever inserts it posts.
    claim = f"run-card:{c.id}"
    if not await ctx.backends.state.claim(claim):
        return
    memo = RunMemo(run.state)
    environment = ctx.backends.orchestrator.environment
    message = run_card(run, memo, requester=c.requester, environment=environment)
    try:
        await cards.follow(
            ctx.backends,
            ctx.surface,
            kind=KIND,
            key=f"{run.dag_id}/{run.run_id}",
            message=message,
            requester=c.requester,
            memo=memo.dump(),
        )
    except BaseException:
        await ctx.backends.state.release(claim)  # the next press posts it
        raise


async def _follow_rerun(c: Confirmation, cleared: list[str], ctx: Ctx) -> Message:
    orchestrator = ctx.backends.orchestrator
    ref = DagRunRef(c.dag, c.dag_run_id)
    ctx.audit_detail.update(dag_id=c.dag, dag_run_id=c.dag_run_id, rerun=True, cleared=cleared)
    (run,) = await orchestrator.get_runs([ref])
    # Remembering the tasks as they are now makes the thread tell the story: failed → queued → success.
    memo = RunMemo(run.state, {t.task_id: t.state for t in await orchestrator.task_states(ref)}, rerun=True)
    message = run_card(run, memo, requester=c.requester, environment=orchestrator.environment)
    key = f"{c.dag}/{c.dag_run_id}"
    await cards.follow(
        ctx.backends,
        ctx.surface,
        kind=KIND,
        key=key,
        message=message,
        requester=c.requester,
        memo=memo.dump(),
    )
    sender = Sender(ctx.backends, ctx.surface)
    await threads.rerun_line(sender, c.dag, by=ctx.user, run=views.link(run), now=ctx.now())
    names = ", ".join(f"`{t}`" for t in cleared)
    text = f"<@{ctx.user}> re-runs {names} of run `{c.dag_run_id}`; a new card in the channel follows it."
    return views.reply(c, text)


async def find_confirmation(store: Confirmations, value: str, ctx: Ctx) -> Confirmation:
    cid, _, dag = value.partition(" ")
    c = await store.get(cid)
    if c is None or c.dag != dag:
        raise UsageError("I have no record of that confirmation; run the command again.")
    ctx.audit_detail.update(dag_id=c.dag, dag_run_id=c.dag_run_id, confirmation=c.id)
    if ctx.user != c.requester and not ctx.backends.policy.is_admin(ctx.user):
        ctx.audit_detail["refused"] = "not the requester"
        raise UsageError(f"Only <@{c.requester}>, who asked for this, or an amd-bot admin can press it.")
    return c


async def _reload(store: Confirmations, c: Confirmation, user: str) -> Confirmation:
    """Why a press lost the compare-and-set: decided already, or expired (then recorded as such)."""
    current = await store.get(c.id) or c
    if current.state == "pending" and current.lapsed:
        await store.decide(c.id, "expired", by=user)
        current = await store.get(c.id) or current
    return current


def _rerun_claim(c: Confirmation) -> str:
    return f"run-rerun:{c.id}"


async def _in_thread(ctx: Ctx, message: Message) -> None:
    if ctx.clicked is None:
        await ctx.surface.post(message)
    else:
        await ctx.surface.post(message, channel=ctx.clicked.channel, thread=ctx.clicked)
