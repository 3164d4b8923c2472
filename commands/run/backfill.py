"""`/amd run <dag> --from YYYY-MM-DD --to YYYY-MM-DD [--reprocess …] [--max-active-runs N]`: one run per
day of the range, after a confirmation that says how many runs, which days have a run already, and which
of those run again (`--reprocess failed|completed`; `none`, the default, leaves them alone).

Trigger makes the runs through the orchestrator's `backfill` (Airflow 3: ONE backfill with the options;
Airflow 2 and the local runner: a run per day whose id derives from the confirmation's, and the runs to
reprocess cleared), once per confirmation: a claim in the state store keeps a second press from running
the reprocessed days twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from bot.core import cards
from bot.core.cards import CardUpdate, LiveCard
from bot.core.command import Ctx
from bot.foundation.errors import UsageError
from bot.foundation.ports import BackfillOptions, RunState
from bot.render import format as fmt
from bot.render.message import Actions, Button, Context, Fields, Header, Message, Part, Text, note
from commands.run import views
from commands.run.store import Confirmation, Confirmations, new_confirmation
from commands.run.views import conf_text

if TYPE_CHECKING:
    from bot.core.backends import Backends

MAX_DAYS_NAMED = 10
_REPROCESS = {
    "none": "days that have a run keep it",
    "failed": "days whose run failed run again",
    "completed": "days whose run finished, failed or not, run again",
}
# Airflow 2 and the local runner have no backfill of their own: the bot makes every run at once.
_NO_LIMIT = "not applicable here, every run is made at once and runs as the DAG allows"
KIND = "run"  # the command's live cards (commands/run/confirm.py KIND): refreshed by its `refresh`
BACKFILL = "backfill:"  # a card key `<dag>/backfill:<confirmation id>` is a backfill's; no run id has ":"


def days_of(start: date, end: date) -> list[datetime]:
    """Each day from `start` to `end`, both included, at 00:00 UTC (Airflow's logical dates are UTC)."""
    return [datetime.combine(start + timedelta(n), time(), UTC) for n in range((end - start).days + 1)]


async def ask(
    ctx: Ctx,
    *,
    dag: str,
    entity: str | None,
    conf: Mapping[str, Any],
    start: date,
    end: date,
    options: BackfillOptions,
) -> Message:
    days = days_of(start, end)
    limit = ctx.backends.settings.backfill_max_runs
    if len(days) > limit:
        raise UsageError(
            f"That is {len(days)} days, {len(days)} runs; at most {limit} (AMD_BACKFILL_MAX_RUNS)."
        )
    orchestrator = ctx.backends.orchestrator
    runs = await orchestrator.runs_on(dag, days)
    existing = sorted({r.logical_date for r in runs if r.logical_date})
    again = sorted({r.logical_date for r in options.again(runs) if r.logical_date})
    c = new_confirmation(
        kind="backfill",
        dag=dag,
        requester=ctx.user,
        channel=ctx.channel,
        now=ctx.now(),
        ttl_s=ctx.backends.settings.run_confirm_ttl_s,
        conf=conf,
        logical_date=days[0],
        logical_date_end=days[-1],
        options=options,
    )
    ctx.audit_detail.update(
        dag_id=dag, confirmation=c.id, days=len(days), existing=len(existing), again=len(again)
    )
    c = await Confirmations(ctx.backends.state.engine).add(c)
    native = await orchestrator.backfills_natively()
    return confirmation_card(
        c, days, existing, again, environment=orchestrator.environment, native=native, entity=entity
    )


async def start(c: Confirmation, ctx: Ctx) -> Message:
    """Make the runs the confirmation asked for, once; days that got a run meanwhile are left alone
    unless the reprocess option picks them."""
    first, last = c.logical_date, c.logical_date_end
    if first is None or last is None:
        raise UsageError("That backfill has no days on record; ask again.")
    orchestrator = ctx.backends.orchestrator
    days = days_of(first.date(), last.date())
    before = await orchestrator.runs_on(c.dag, days)
    existing = {r.logical_date for r in before}
    missing = [d for d in days if d not in existing]
    again = c.options.again(before)
    claim = f"run-backfill:{c.id}"
    if not await ctx.backends.state.claim(claim):
        return note(f"This backfill of `{c.dag}` was started already; its card in the channel follows it.")
    ctx.audit_detail.update(dag_id=c.dag, backfill=c.dag_run_id, days=len(missing), again=len(again))
    try:
        await orchestrator.backfill(c.dag, days, c.conf, c.dag_run_id, c.options)
    except BaseException:
        await ctx.backends.state.release(claim)  # nothing or part of it was made: a press finishes it
        raise
    runs = await orchestrator.runs_on(c.dag, days)
    made = len(runs) - len(existing)
    memo = {"first": first.isoformat(), "last": last.isoformat()}
    card = progress_card(c.dag, days, runs, environment=orchestrator.environment)
    # One card: only the press that holds the backfill's claim gets here.
    await cards.follow(
        ctx.backends, ctx.surface, kind=KIND, key=f"{c.dag}/{BACKFILL}{c.id}", message=card,
        requester=c.requester, memo=memo,
    )  # fmt: skip
    left = f"; {len(existing)} days had a run already" if existing else ""
    rerun = f", {len(again)} to run again" if again else ""
    return note(
        f"Backfill of `{c.dag}` in {orchestrator.environment}: {fmt.counted(len(missing), 'run')} asked "
        f"for {_span(days)}{rerun}, {made} made so far{left}; its card in the channel follows them."
    )


async def refresh_card(card: LiveCard, backends: Backends) -> CardUpdate:
    """A backfill's card: its days' runs read with one list call a tick."""
    dag = card.key.partition("/")[0]
    days = days_of(
        datetime.fromisoformat(card.memo["first"]).date(), datetime.fromisoformat(card.memo["last"]).date()
    )
    runs = await backends.orchestrator.runs_on(dag, days)
    message = progress_card(dag, days, runs, environment=backends.orchestrator.environment)
    return CardUpdate(message, dict(card.memo))  # the days stay in the memo for the next tick


def progress_card(
    dag: str, days: Sequence[datetime], runs: Sequence[RunState], *, environment: str
) -> Message:
    states = Counter(r.state for r in runs)
    waiting = len(days) - len(runs)  # Airflow 3 may make a backfill's runs as it goes
    counts = f"{states['success']} done · {states['running']} running · {states['failed']} failed"
    counts += f" · {states['queued'] + waiting} to go"
    failed = sorted((r for r in runs if r.state == "failed"), key=lambda r: r.logical_date or days[0])
    parts: list[Part] = [
        Header(f"Backfill {dag}"),
        Text(f"{_span(days)} · {counts}"),
        Context((environment,)),
    ]
    if failed:
        named = ", ".join(f"{r.logical_date:%Y-%m-%d} ({views.link(r)})" for r in failed[:MAX_DAYS_NAMED])
        parts.append(Text(f":x: Failed: {named}"))
        buttons = [
            Button(f"Re-run {r.logical_date:%Y-%m-%d}", "run.rerun", f"{dag} {r.run_id}") for r in failed[:5]
        ]
        parts.append(Actions(tuple(buttons)))
    live = waiting > 0 or any(not r.finished for r in runs)
    summary = f"Backfill {dag} {_span(days)}: {counts}"
    return Message(tuple(parts), fallback=summary, public=True, live=live)


def confirmation_card(
    c: Confirmation,
    days: Sequence[datetime],
    existing: Sequence[datetime],
    again: Sequence[datetime],
    *,
    environment: str,
    native: bool,
    entity: str | None,
) -> Message:
    """`native`: the orchestrator backfills by itself (Airflow 3), so max_active_runs is its limit."""
    question = f"Backfill {c.dag}?"
    dag = f"`{c.dag}`" + (f" (entity `{entity}`)" if entity else "")
    counts = f"{fmt.counted(len(days), 'day')}, {fmt.counted(len(days) - len(existing), 'new run')}"
    counts += f", {len(again)} again" if again else ""
    pairs = [
        ("DAG", dag),
        ("Environment", environment),
        ("Days", f"{_span(days)}: {counts}"),
        ("Have a run already", _named(existing) or "none"),
    ]
    if c.reprocess is not None:
        pairs += [
            ("Reprocess", f"`{c.reprocess}`: {_REPROCESS[c.reprocess]}"),
            ("Run again", _named(again) or "none"),
        ]
    if c.max_active_runs is not None:
        limit = "at most this many of its runs at once" if native else _NO_LIMIT
        pairs.append(("Max active runs", f"{c.max_active_runs}: {limit}"))
    pairs += [
        ("Conf", conf_text(c.conf)),
        ("Asked by", f"<@{c.requester}>"),
        ("Expires", fmt.when(c.expires_at)),
    ]
    value = f"{c.id} {c.dag}"
    parts: list[Part] = [
        Header(question),
        Fields(tuple(pairs)),
        Text(
            "Days that have a run are left as they are; each other day gets one run."
            if c.options.reprocess == "none"
            else "Days under Run again run once more, as the same run; any other day that has a run "
            "keeps it; each day without one gets one run."
        ),
        Actions(
            (Button("Backfill", "run.trigger", value, style="primary"), Button("Cancel", "run.cancel", value))
        ),
        Context((f"backfill `{c.dag_run_id}`", f"only <@{c.requester}> or an amd-bot admin can press these")),
    ]
    return Message(tuple(parts), fallback=question)


def _span(days: Sequence[datetime]) -> str:
    first, last = days[0].date().isoformat(), days[-1].date().isoformat()
    return first if first == last else f"{first} → {last}"


def _named(days: Sequence[datetime]) -> str:
    shown = ", ".join(d.date().isoformat() for d in days[:MAX_DAYS_NAMED])
    return shown + (f" and {len(days) - MAX_DAYS_NAMED} more" if len(days) > MAX_DAYS_NAMED else "")
