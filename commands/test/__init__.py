"""`/amd test [selector]` · `/amd test --freshness` · `/amd test cancel`: dbt tests from Slack.

The selector is checked against the manifest before anything runs (bot/foundation/selector.py). One card is
posted and updated in place while dbt runs (at most one update per UPDATE_EVERY_S), then replaced by
the result; owners of failing models are mentioned in the card's thread, where mentions notify.
Every run and test result is stored (bot/state/results.py) so the buttons work later too.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel

from bot.core.command import Action, Command, Ctx
from bot.core.surface import Surface
from bot.foundation.catalog import Catalog
from bot.foundation.dbt_port import DbtInvocation, DbtProgress
from bot.foundation.errors import UsageError
from bot.foundation.ports import BackendUnavailable, CardRef
from bot.foundation.selector import atoms, check_selector, with_own_tests
from bot.render.message import Message, note
from bot.state.results import TestResults, TestRun
from commands.test import buttons, lifecycle
from commands.test.views import (
    TOP_FAILURES,
    Owners,
    TestRequest,
    failure_list,
    freshness_card,
    owner_ping,
    progress_card,
    ranked_failures,
    result_card,
)

log = logging.getLogger(__name__)
# chat.update is Tier 3 (~50/min per workspace, shared by every card): a running test card takes 6.
UPDATE_EVERY_S = 10.0


class TestArgs(BaseModel):
    mode: Literal["test", "freshness", "cancel"] = "test"
    selector: str | None = None  # checked against the manifest; None: every test


def parse(words: Sequence[str], catalog: Catalog) -> TestArgs:
    if list(words) == ["--freshness"]:
        return TestArgs(mode="freshness")
    if list(words) == ["cancel"]:
        return TestArgs(mode="cancel")
    if "--freshness" in words or "cancel" in words:
        raise UsageError("`--freshness` and `cancel` stand alone, without a selector.")
    # People paste dbt's own flag; the words after it are the selector all the same.
    selection = list(words[1:]) if words and words[0] in ("--select", "-s") else list(words)
    return TestArgs(selector=check_selector(selection, catalog) if selection else None)


async def handle(args: TestArgs, ctx: Ctx) -> Message | None:
    if args.mode == "cancel":
        return await lifecycle.cancel_latest(ctx)
    command = "source freshness" if args.mode == "freshness" else "test"
    await run_and_show(ctx, TestRequest(_run_key(), command, args.selector, ctx.user))
    return None


async def run_and_show(ctx: Ctx, request: TestRequest) -> None:
    async with lifecycle.held(ctx, request.run_key):
        await _run_and_show(ctx, request)


async def _run_and_show(ctx: Ctx, request: TestRequest) -> None:
    store = TestResults(ctx.backends.state.engine)
    started = ctx.now()
    await store.started(
        TestRun(
            request.run_key,
            request.command,
            request.selector,
            ctx.user,
            ctx.channel,
            None,
            "running",
            started,
        )
    )
    ctx.audit_detail["run_key"] = request.run_key
    ref = await ctx.surface.post(progress_card(request, None))
    await store.set_card(request.run_key, ref.ts)
    live = ProgressCard(ctx.surface, ref, request)
    follower = asyncio.create_task(live.follow())
    try:
        result = await _invoke(ctx, request, live)
    except Exception as exc:
        # The card must not stay "running" forever; the router still reports the error itself.
        shown = (
            str(exc) if isinstance(exc, BackendUnavailable) else "amd-bot could not run dbt (see its log)."
        )
        failed = DbtInvocation("", request.command, request.selector, 2, (), started, ctx.now(), shown)
        await _settle(ctx, store, ref, request, failed)
        raise
    finally:
        follower.cancel()
    await _settle(ctx, store, ref, request, result)


async def _invoke(ctx: Ctx, request: TestRequest, live: ProgressCard) -> DbtInvocation:
    if request.command == "test":
        selector = with_own_tests(request.selector, ctx.catalog) if request.selector else None
        return await ctx.backends.dbt.test(selector, run_key=request.run_key, on_progress=live.progress)
    return await ctx.backends.dbt.freshness(run_key=request.run_key, on_progress=live.progress)


async def _settle(
    ctx: Ctx, store: TestResults, ref: CardRef, request: TestRequest, result: DbtInvocation
) -> None:
    owners = _owners(ctx.catalog, result)
    await store.finished(request.run_key, result, lambda model: owners.of_model.get(model or ""))
    ctx.audit_detail.update(exit_code=result.exit_code, invocation_id=result.invocation_id)
    if request.command != "test":
        await ctx.surface.update(ref, freshness_card(request, result))
        return
    await ctx.surface.update(ref, result_card(request, result, owners))
    if len(ranked_failures(result.outcomes)) > TOP_FAILURES:
        await ctx.surface.post(failure_list(request, result, owners), channel=ref.channel, thread=ref)
    ping = owner_ping(request, result, owners)
    if ping is not None:
        await ctx.surface.post(ping, channel=ref.channel, thread=ref)


class ProgressCard:
    """Progress arrives per dbt node; the card shows the latest at most every UPDATE_EVERY_S, from its
    own task, so a slow Slack never holds up reading dbt's output. A refused update is tried again
    (with the newest progress) at the next turn."""

    def __init__(self, surface: Surface, ref: CardRef, request: TestRequest) -> None:
        self._surface, self._ref, self._request = surface, ref, request
        self._latest: DbtProgress | None = None

    async def progress(self, progress: DbtProgress) -> None:
        self._latest = progress

    async def follow(self) -> None:
        shown: DbtProgress | None = None
        while True:
            await asyncio.sleep(UPDATE_EVERY_S)
            latest = self._latest
            if latest != shown:
                try:
                    await self._surface.update(self._ref, progress_card(self._request, latest))
                except Exception:
                    log.warning("could not update test card %s", self._request.run_key, exc_info=True)
                else:
                    shown = latest


def _owners(catalog: Catalog, result: DbtInvocation) -> Owners:
    of_model: dict[str, str | None] = {}
    for model in {o.model for o in result.outcomes if o.model}:
        of_model[model] = catalog.owner_of(model)
    mention = {}
    for owner in {o for o in of_model.values() if o}:
        if owner in catalog.owners:  # the others are named as text; bot/runtime.py says so once at start
            mention[owner] = catalog.owner_mention(owner)
    return Owners(of_model, mention)


async def _rerun_failed(value: str, ctx: Ctx) -> Message | None:
    failed = await TestResults(ctx.backends.state.engine).failed_of(value)
    if not failed:
        await buttons.reply_in_thread(ctx, note(f"`{value}` has no stored failed tests to run again."))
        return None
    # Test names come from dbt's own manifest via our store, never from the user.
    selector = " ".join(sorted({t.name for t in failed}))
    await run_and_show(ctx, TestRequest(_run_key(), "test", selector, ctx.user, rerun_of=value))
    return None


def _permission(args: TestArgs) -> str | tuple[str, ...]:
    # One action per selector atom: a grant of `test:payment*` must not let `payment user` through.
    if args.mode != "test":
        return f"test.{args.mode}"
    return tuple(f"test:{atom}" for atom in atoms(args.selector)) if args.selector else "test:*"


def _run_key() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


command = Command(
    name="test",
    summary="Run dbt tests (or source freshness) and show what failed, with owners and failing rows.",
    usage="test [selector] | test --freshness | test cancel",
    examples=(
        "test payment",
        "test +payment",
        "test path:models/entities",
        "test --freshness",
        "test cancel",
    ),
    parse=parse,
    handle=handle,
    permission=_permission,
    ack=lambda args: {
        "test": f"Running dbt tests on `{args.selector or 'everything'}`…",
        # `/amd stats` judges freshness per entity; say which one this is, or the two seem to disagree.
        "freshness": "Checking each dbt source's freshness (per entity: `/amd stats`)…",
        "cancel": "Cancelling your latest dbt run…",
    }[args.mode],
    actions={
        "rows": Action(buttons.show_rows, lambda _value: "test.rows"),
        "sql": Action(buttons.show_sql, lambda _value: "test.sql"),
        "rerun": Action(_rerun_failed, lambda _value: "test.rerun"),
        "cancel": Action(lifecycle.cancel_pressed, lambda _value: "test.cancel"),
    },
    details="Selectors: node names, `+` graph operators, `tag:`, `source:`, `path:`, `test_name:`, "
    "`test_type:`; only names in the dbt manifest. Failing tests get buttons: failing rows, SQL, re-run.",
)
