"""`/amd migration [name] [pause|resume]`: live progress of history migrations.

Copy jobs report chunks to the ledger (bot/migration/ledger.py) at whatever rate they run; the card is a
live card (bot/core/cards.py): the scheduler re-renders it, and `refresh` below lets a card change at
most once per UPDATE_EVERY_S, so 1,000 reports/s still cost a handful of chat.update calls a minute.
Milestones, failed chunks and the validation verdict go into the card's thread. `check_stalls` is
the scheduled job that tells the migration's channel once per stall.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

from bot.core import cards
from bot.core.command import Action, Command, Ctx
from bot.foundation.catalog import Catalog
from bot.foundation.errors import UsageError
from bot.foundation.migration_specs import MigrationSpec
from bot.foundation.suggest import unknown
from bot.migration.ledger import Ledger
from bot.migration.progress import Progress
from bot.render.message import Message, Text
from commands.migration import views

if TYPE_CHECKING:
    from bot.core.backends import Backends
    from bot.core.surface import Surface

# chat.update is Tier 3 (~50/min per workspace, shared by every card): one migration card takes at
# most 6 of them, on top of the scheduler's own tick interval.
UPDATE_EVERY_S = 10.0
KIND = "migration"


NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class MigrationArgs(BaseModel):
    name: str | None = Field(None, pattern=NAME.pattern)
    action: Literal["show", "pause", "resume"] = "show"


def parse(words: Sequence[str], _catalog: Catalog) -> MigrationArgs:
    # Migration names live in settings, not in the catalog `parse` is given: `handle` checks them.
    if len(words) > 2:
        raise UsageError("`migration` takes a name and optionally `pause` or `resume`.")
    if len(words) == 2 and words[1].lower() not in ("pause", "resume"):
        raise UsageError(f"`{words[1][:40]}` is not `pause` or `resume`.")
    if not words:
        return MigrationArgs()
    if not NAME.fullmatch(words[0].lower()):  # said here in the bot's words, not by pydantic
        raise UsageError(f"`{words[0][:40]}` is not a migration name (letters, digits and _).")
    action = words[1].lower() if len(words) == 2 else "show"
    return MigrationArgs(name=words[0].lower(), action=action)


def ledger_of(backends: Backends) -> Ledger:
    return Ledger.on(backends.state, backends.settings.migrations)


def _spec(ledger: Ledger, name: str) -> MigrationSpec:
    if name not in ledger.specs:
        message, guess = unknown("migration", name, ledger.specs)
        raise UsageError(message, suggestion=guess)
    return ledger.specs[name]


async def handle(args: MigrationArgs, ctx: Ctx) -> Message | None:
    ledger = ledger_of(ctx.backends)
    if args.name is None:
        return views.listing([await ledger.progress(name, now=ctx.now()) for name in ledger.specs])
    spec = _spec(ledger, args.name)
    if args.action != "show":
        return await _set_intent(ledger, spec, "pause" if args.action == "pause" else "run", ctx)
    now = ctx.now()
    progress = await ledger.progress(spec.name, now=now)
    failed = await ledger.failed_chunks(spec.name)
    message = views.card(progress, spec, failed, ctx.backends.settings.owners)
    if views.settled(progress, spec, now):
        message = Message(message.parts, message.fallback, public=True, live=False)
    _, memo = views.follow_up(progress, failed, {"shown_at": now.isoformat()})
    ctx.audit_detail["migration"] = spec.name
    await cards.follow(
        ctx.backends, ctx.surface, kind=KIND, key=spec.name, message=message, requester=ctx.user, memo=memo
    )
    return None


async def _set_intent(
    ledger: Ledger, spec: MigrationSpec, intent: Literal["run", "pause"], ctx: Ctx
) -> Message:
    await ledger.set_intent(spec.name, intent, by=ctx.user, at=ctx.now())
    ctx.audit_detail.update(migration=spec.name, intent=intent)
    text = (
        f"<@{ctx.user}> paused *{spec.name}*: copy jobs wait before their next chunk."
        if intent == "pause"
        else f"<@{ctx.user}> resumed *{spec.name}*: copy jobs continue with their next chunk."
    )
    return Message((Text(text),), fallback=f"{spec.name} {intent}", public=True)


async def refresh(live: Sequence[cards.LiveCard], backends: Backends) -> Mapping[int, cards.CardUpdate]:
    ledger = ledger_of(backends)
    now = datetime.now(UTC)
    read: dict[str, tuple[Progress, list[tuple[str, str]]]] = {}
    updates: dict[int, cards.CardUpdate] = {}
    for card in live:
        spec = ledger.specs.get(card.key)
        if spec is None:
            continue  # the migration left the settings; its old cards stay as they were
        if card.key not in read:  # one ledger read per migration, however many cards show it
            read[card.key] = (await ledger.progress(card.key, now=now), await ledger.failed_chunks(card.key))
        progress, failed = read[card.key]
        update = _update(card, progress, failed, spec, backends.settings.owners, now)
        if update is not None:
            updates[card.id] = update
    return updates


def _update(
    card: cards.LiveCard,
    progress: Progress,
    failed: list[tuple[str, str]],
    spec: MigrationSpec,
    owners: Mapping[str, str],
    now: datetime,
) -> cards.CardUpdate | None:
    message = views.card(progress, spec, failed, owners)
    done = views.settled(progress, spec, now)
    if done:
        message = Message(message.parts, message.fallback, public=True, live=False)
    notes, memo = views.follow_up(progress, failed, card.memo)
    # Only the numbers are throttled: a new state (paused, stalled, done) shows at the next tick.
    if not notes and not done and memo["state"] == card.memo.get("state"):
        if cards.fingerprint(message) == card.fingerprint:
            return None
        shown_at = card.memo.get("shown_at")
        if shown_at and now - datetime.fromisoformat(shown_at) < timedelta(seconds=UPDATE_EVERY_S):
            return None  # throughput and ETA change every tick; the card need not
    return cards.CardUpdate(message, {**memo, "shown_at": now.isoformat()}, notes)


async def check_stalls(backends: Backends, surface: Surface, *, now: datetime) -> list[str]:
    """Tell each stalled migration's channel, once per stall: the claim key names the last report,
    so the next alert needs the migration to move (a new last report) and stall again."""
    ledger = ledger_of(backends)
    alerted = []
    for spec in ledger.specs.values():
        if spec.channel is None:
            continue
        progress = await ledger.progress(spec.name, now=now)
        if progress.state != "stalled" or progress.last_report_at is None:
            continue
        key = f"migration-stall:{spec.name}:{progress.last_report_at.isoformat()}"
        if not await backends.state.claim(key):
            continue
        try:
            await surface.post(
                views.stall_alert(progress, spec, backends.settings.owners), channel=spec.channel
            )
        except Exception:
            await backends.state.release(key)  # not told yet: the next run (or replica) tries again
            raise
        alerted.append(spec.name)
    return alerted


async def _button(intent: Literal["run", "pause"], value: str, ctx: Ctx) -> Message | None:
    ledger = ledger_of(ctx.backends)
    answer = await _set_intent(ledger, _spec(ledger, value), intent, ctx)
    # The card is live: the next tick shows the new state and flips the button. The answer goes to
    # its thread, because a button's answer would otherwise replace the card.
    if ctx.clicked is not None:
        await ctx.surface.post(answer, channel=ctx.clicked.channel, thread=ctx.clicked)
        return None
    return answer


async def _pause(value: str, ctx: Ctx) -> Message | None:
    return await _button("pause", value, ctx)


async def _resume(value: str, ctx: Ctx) -> Message | None:
    return await _button("run", value, ctx)


command = Command(
    name="migration",
    summary="Live progress of history migrations: per source, throughput, ETA, failures, validation.",
    usage="migration [name] [pause|resume]",
    examples=(
        "migration",
        "migration delivery_address_history",
        "migration delivery_address_history pause",
        "migration delivery_address_history resume",
    ),
    parse=parse,
    handle=handle,
    permission=lambda args: (
        f"migration.{args.action}:{args.name}" if args.action != "show" else f"migration:{args.name or '*'}"
    ),
    ack=lambda args: {
        "show": f"Reading the progress of `{args.name}`…" if args.name else "Reading the migrations…",
        "pause": f"Asking the copy jobs of `{args.name}` to pause…",
        "resume": f"Letting the copy jobs of `{args.name}` continue…",
    }[args.action],
    actions={
        "pause": Action(_pause, lambda value: f"migration.pause:{value}"),
        "resume": Action(_resume, lambda value: f"migration.resume:{value}"),
    },
    refresh=refresh,
    details="Copy jobs report through `amd-bot migration report`, the `bot.migration.ledger.Reporter` "
    "client or `POST /migrations/<name>/chunks`. Pause and resume need `migration.pause:<name>` and "
    "`migration.resume:<name>`.",
)
