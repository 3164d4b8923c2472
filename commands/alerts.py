"""`/amd alerts [entity|owner]`: the open incidents and the channels refusing alerts, only to you;
`/amd alerts <incident>`: that incident's timeline (its thread's lines); `/amd alerts check`: sweep every
source now and send the immediate alerts that are due (what the scheduler does every poll); and the
buttons of immediate alerts (Acknowledge, Snooze 1 h / 24 h / until green, Resolve), which update the
alert in place from any replica and add a line to its thread.

Access: `alerts:<entity or owner>` to list (an incident's timeline: `alerts:*`), `alerts.check` to check
now, `alerts.ack:<incident>`, `alerts.snooze:<incident>` and `alerts.resolve:<incident>` for the
buttons. Re-run failed is `/amd run`'s own button (it asks first; `run.rerun:<dag>`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from pydantic import BaseModel

from bot.alerts.deliver import alert
from bot.alerts.delivery import FIXES, Effect, Sender
from bot.alerts.views import SNOOZES, acted_message, state_words, thread_line
from bot.alerts.watch import sweep
from bot.core.command import Action, Command, Ctx
from bot.foundation.catalog import Catalog
from bot.foundation.errors import UsageError
from bot.render import format as fmt
from bot.render.message import Context, Message, Table, Text, note
from bot.state.deliveries import Delivery
from bot.state.incidents import Acted, Incident, Incidents

SHOWN = 50


class AlertsArgs(BaseModel):
    entity: str | None = None
    owner: str | None = None
    check: bool = False
    incident: str | None = None


def parse(words: Sequence[str], catalog: Catalog) -> AlertsArgs:
    if len(words) > 1:
        raise UsageError("`alerts` takes at most one entity or owner.", suggestion="alerts payment")
    if not words:
        return AlertsArgs()
    if words[0] == "check":
        return AlertsArgs(check=True)
    if ":" in words[0]:  # an incident key: run:<dag>, test:<id>, stale:<entity>, migration:<name>
        return AlertsArgs(incident=words[0])
    owners = {e.owner for e in catalog.entities.values() if e.owner}
    if words[0] in owners:
        return AlertsArgs(owner=words[0])
    return AlertsArgs(entity=catalog.entity(words[0]).name)


async def handle(args: AlertsArgs, ctx: Ctx) -> Message:
    now = ctx.now()
    if args.check:
        swept = await sweep(ctx.backends, now=now)
        told = await alert(ctx.backends, ctx.surface, now=now)
        unread = "".join(f"\n:warning: Could not read the {s}: {why}" for s, why in swept.unreadable.items())
        said = f"Alerted: {', '.join(f'`{k}`' for k in told)}." if told else "No alert is due now."
        return note(said + unread)
    if args.incident is not None:
        return await timeline(args.incident, ctx)
    found = await unresolved(Incidents(ctx.backends.state.engine), entity=args.entity, owner=args.owner)
    which = args.entity or args.owner or "all entities"
    refused = problem_lines(await Sender(ctx.backends, ctx.surface).store.problems())
    if not found:
        return note("\n".join([f":white_check_mark: No open incidents for {which}.", *refused]))
    rows = tuple(
        (i.key, i.state_at(now), i.owner or "—", fmt.when(i.opened_at), i.summary.replace("`", ""))
        for i in found[:SHOWN]
    )
    more = f" (the first {SHOWN} shown)" if len(found) > SHOWN else ""
    return Message(
        (
            Text(f"*{fmt.counted(len(found), 'open incident')}* for {which}{more}"),
            Table(("incident", "state", "owner", "open since", "what"), rows),
            *(Text(line) for line in refused),
            Context(("`/amd digest preview` groups them by root cause.",)),
        ),
        fallback=fmt.counted(len(found), "open incident"),
    )


async def unresolved(store: Incidents, *, entity: str | None, owner: str | None) -> list[Incident]:
    """The incidents not resolved, of one entity or owner when given (the Q&A and Home read these too)."""
    return [
        i
        for i in await store.all()
        if (entity is None or i.entity == entity) and (owner is None or i.owner == owner)
    ]


async def press_ack(value: str, ctx: Ctx) -> Message | None:
    return await _act(value, ctx, "acknowledged", until=None)


async def press_snooze(value: str, ctx: Ctx) -> Message | None:
    label, _, key = value.partition(" ")
    if label not in SNOOZES:
        raise UsageError(f"Unknown snooze `{label}`.")
    hours = SNOOZES[label]
    return await _act(key, ctx, "snoozed", until=ctx.now() + timedelta(hours=hours) if hours else None)


async def press_resolve(value: str, ctx: Ctx) -> Message | None:
    return await _act(value, ctx, "resolved", until=None)


async def _act(key: str, ctx: Ctx, state: Acted, *, until: datetime | None) -> Message | None:
    store = Incidents(ctx.backends.state.engine)
    now = ctx.now()
    ctx.audit_detail.update(incident=key)
    if not await store.act(key, state, by=ctx.user, now=now, until=until):
        return Message(
            (Text(f":white_check_mark: `{key}` is resolved already."),), fallback="resolved", replace=False
        )
    incident = await store.get(key)
    assert incident is not None  # act() just changed it
    acted = acted_message(incident, ctx.catalog)
    if ctx.clicked is None:
        return acted
    await ctx.surface.update(ctx.clicked, acted)  # in place, for everyone in the channel
    if state != "resolved":  # a resolution's line comes with the recovery edit (bot/alerts/threads.py)
        words = f"{state_words(incident)} by <@{ctx.user}> at {fmt.when(now)}"
        line = Effect(
            f"acted:{key}:{now.isoformat()}:{ctx.clicked.channel}",
            "line",
            ctx.clicked.channel,
            thread_line(words),
            incident=key,
            thread=ctx.clicked,
            line=words,
        )
        await Sender(ctx.backends, ctx.surface).send(line)
    return None


async def timeline(key: str, ctx: Ctx) -> Message:
    """An incident's story as its thread tells it: each line, oldest first."""
    incident = await Incidents(ctx.backends.state.engine).get(key)
    if incident is None:
        raise UsageError(f"No incident `{key}`.", suggestion="alerts")
    said = await Sender(ctx.backends, ctx.surface).store.of([key])
    lines = [
        f"*{incident.summary}* · {incident.state_at(ctx.now())} · open since {fmt.when(incident.opened_at)}"
    ]
    lines += [f"• {d.line}" for d in said if d.line and d.state == "posted"]
    lines += [f"• :warning: not delivered to {d.channel}: `{d.error}`" for d in said if d.state == "failed"]
    return note("\n".join(lines))


def problem_lines(problems: Sequence[Delivery]) -> list[str]:
    """Channels refusing alerts now, once each (by channel and Slack's error)."""
    seen = dict.fromkeys((d.channel, d.error or "") for d in problems)
    return [
        f":rotating_light: Alerts to {where} are refused (`{why}`): {FIXES.get(why, 'check the channel')}"
        for where, why in seen
    ]


def _object(value: str) -> str:
    return value.rpartition(" ")[2]


command = Command(
    name="alerts",
    summary="Open incidents (failed runs and tests, stale entities, migrations), only to you.",
    usage="alerts [ENTITY|OWNER] | alerts check",
    examples=("alerts", "alerts payment", "alerts lena.m", "alerts check"),
    parse=parse,
    handle=handle,
    permission=lambda args: "alerts.check" if args.check else f"alerts:{args.entity or args.owner or '*'}",
    ack=lambda args: (
        "Checking runs, tests, freshness and migrations…" if args.check else "Reading open incidents…"
    ),
    actions={
        "ack": Action(press_ack, lambda value: f"alerts.ack:{_object(value)}"),
        "snooze": Action(press_snooze, lambda value: f"alerts.snooze:{_object(value)}"),
        "resolve": Action(press_resolve, lambda value: f"alerts.resolve:{_object(value)}"),
    },
    details="Immediate alerts carry Acknowledge, Snooze 1 h / 24 h / until green, Resolve and Re-run "
    "failed buttons; an acknowledged or snoozed incident is folded into the digest's count. "
    "`/amd alerts <incident>` shows its timeline.",
)
