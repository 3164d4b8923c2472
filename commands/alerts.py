"""`/amd alerts [entity|owner]`: the open incidents, only to you; `/amd alerts check`: sweep every source
now and send the immediate alerts that are due (what the scheduler does every poll); and the buttons of
immediate alerts (Acknowledge, Snooze 1 h / 24 h), which update the alert in place from any replica.

Access: `alerts:<entity or owner>` to list, `alerts.check` to check now, `alerts.ack:<incident>` and
`alerts.snooze:<incident>` for the buttons. Re-run failed is `/amd run`'s own button (it asks first;
`run.rerun:<dag>`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from pydantic import BaseModel

from bot.alerts.deliver import alert
from bot.alerts.views import SNOOZES, acted_message
from bot.alerts.watch import sweep
from bot.core.command import Action, Command, Ctx
from bot.foundation.catalog import Catalog
from bot.foundation.errors import UsageError
from bot.render import format as fmt
from bot.render.message import Context, Message, Table, Text, note
from bot.state.incidents import Incident, Incidents

SHOWN = 50


class AlertsArgs(BaseModel):
    entity: str | None = None
    owner: str | None = None
    check: bool = False


def parse(words: Sequence[str], catalog: Catalog) -> AlertsArgs:
    if len(words) > 1:
        raise UsageError("`alerts` takes at most one entity or owner.", suggestion="alerts payment")
    if not words:
        return AlertsArgs()
    if words[0] == "check":
        return AlertsArgs(check=True)
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
    found = await unresolved(Incidents(ctx.backends.state.engine), entity=args.entity, owner=args.owner)
    which = args.entity or args.owner or "all entities"
    if not found:
        return note(f":white_check_mark: No open incidents for {which}.")
    rows = tuple(
        (i.key, i.state_at(now), i.owner or "—", fmt.when(i.opened_at), i.summary.replace("`", ""))
        for i in found[:SHOWN]
    )
    more = f" (the first {SHOWN} shown)" if len(found) > SHOWN else ""
    return Message(
        (
            Text(f"*{fmt.counted(len(found), 'open incident')}* for {which}{more}"),
            Table(("incident", "state", "owner", "open since", "what"), rows),
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
    return await _act(value, ctx, snooze_h=None)


async def press_snooze(value: str, ctx: Ctx) -> Message | None:
    label, _, key = value.partition(" ")
    if label not in SNOOZES:
        raise UsageError(f"Unknown snooze `{label}`.")
    return await _act(key, ctx, snooze_h=SNOOZES[label])


async def _act(key: str, ctx: Ctx, *, snooze_h: int | None) -> Message | None:
    store = Incidents(ctx.backends.state.engine)
    now = ctx.now()
    until = now + timedelta(hours=snooze_h) if snooze_h else None
    ctx.audit_detail.update(incident=key)
    if not await store.act(key, "snoozed" if until else "acknowledged", by=ctx.user, now=now, until=until):
        return Message(
            (Text(f":white_check_mark: `{key}` is resolved already."),), fallback="resolved", replace=False
        )
    incident = await store.get(key)
    assert incident is not None  # act() just changed it
    acted = acted_message(incident, ctx.catalog)
    if ctx.clicked is None:
        return acted
    await ctx.surface.update(ctx.clicked, acted)  # in place, for everyone in the channel
    return None


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
    },
    details="Immediate alerts carry Acknowledge, Snooze 1 h / 24 h and Re-run failed buttons; an "
    "acknowledged or snoozed incident is folded into the digest's count.",
)
