"""A `/amd test` run across replicas: who may cancel it, cancel requests through the state store, and
runs whose process died (reconciled: marked lost, their card says so).

Any replica may get the Cancel press or `/amd test cancel`; only the one running dbt can stop it. So a
cancel is a request on the run's held work (bot/state/leases.py), which that replica polls.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

from bot.core.backends import Backends
from bot.core.command import Ctx
from bot.core.surface import Surface
from bot.foundation.errors import UsageError
from bot.foundation.ports import CardRef
from bot.render.message import Message, note
from bot.state.results import TestResults
from commands.test.views import TestRequest, lost_card

log = logging.getLogger(__name__)
KIND = "test"
LOST = "the amd-bot process running it ended."


@asynccontextmanager
async def held(ctx: Ctx, run_key: str) -> AsyncIterator[None]:
    """Hold the run for its whole life, so a cancel from any replica reaches its dbt invocation."""

    async def stop() -> bool:
        return await ctx.backends.dbt.cancel(run_key)

    async with ctx.backends.leases.hold(run_key, KIND, stop):
        yield


async def cancel_latest(ctx: Ctx) -> Message:
    """`/amd test cancel`: the newest unfinished run the user asked for, wherever it runs."""
    for run in await TestResults(ctx.backends.state.engine).active(requested_by=ctx.user):
        if await ctx.backends.leases.request_cancel(run.run_key, by=ctx.user):
            ctx.audit_detail["run_key"] = run.run_key
            return note(
                f"Cancelling `{run.run_key}` ({run.selector or run.command}); its card shows when it stopped."
            )
    return note("Nothing you started is running.")


async def cancel_pressed(value: str, ctx: Ctx) -> Message | None:
    """A test card's Cancel button (value: the run key). The run's own handler turns the card into
    "Cancelled"; a run that ended already needs nothing."""
    run = await TestResults(ctx.backends.state.engine).run(value)
    if run is None:
        return None
    ctx.audit_detail["run_key"] = run.run_key
    if ctx.user != run.requested_by and not ctx.backends.policy.is_admin(ctx.user):
        ctx.audit_detail["refused"] = "not the requester"
        raise UsageError(f"Only <@{run.requested_by}>, who started it, or an amd-bot admin can cancel it.")
    await ctx.backends.leases.request_cancel(value, by=ctx.user)
    return None


async def reconcile_lost(backends: Backends, surface: Surface, *, now: datetime) -> list[str]:
    """Mark runs whose process died as lost and update their cards; safe on every replica at once
    (the status change is a compare-and-set: one replica wins each run and updates its card)."""
    store = TestResults(backends.state.engine)
    lost = []
    for run in await store.orphaned(backends.leases.alive(now)):
        if not await store.mark_lost(run.run_key, now, LOST):
            continue
        lost.append(run.run_key)
        if run.card_ts is None:
            continue
        request = TestRequest(run.run_key, run.command, run.selector, run.requested_by)
        try:
            await surface.update(CardRef(run.channel, run.card_ts), lost_card(request, LOST))
        except Exception:
            log.warning("could not update the card of lost test run %s", run.run_key, exc_info=True)
    return lost
