"""Issue 3 end to end: `/amd run` asks first, starts one run however often Trigger is pressed, and its card
follows the run to the end, across restarts.

The local runner (a DAG run = the demo's `dbt build` of the DAG's models, a few seconds each) through the
console and over Slack's HTTP path; a real Airflow 3 for the Airflow parts (marked `airflow`). Builds
are the slow part, so one story follows several runs where the story allows it.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from aiohttp import web
from pydantic import SecretStr
from sqlalchemy import select

import commands
from bot.adapters.orchestrator.airflow import AirflowOrchestrator
from bot.alerts.tests_seen import RUN_TESTS
from bot.alerts.watch import sweep
from bot.core import cards
from bot.core.surface import Surface
from bot.foundation.access_rules import AccessRule
from bot.foundation.errors import UsageError
from bot.foundation.ports import DagRunRef, Orchestrator, RunState, TaskState
from bot.foundation.settings import Settings
from bot.render.console import to_text
from bot.render.slack import to_blocks
from bot.scheduler import live_kinds
from bot.state.incidents import Incidents
from bot.state.schema import run_confirmations
from bot.state.store import SqlState
from bot.surfaces.console import Console
from bot.surfaces.slack import SlackSurface, web_client
from commands import run as run_command
from commands.run.store import Confirmation, Confirmations, new_confirmation
from commands.run.views import RunMemo, confirmation_card, run_card
from tests.support.airflow import AirflowServer
from tests.support.bot import BotHarness, running_bot, sign
from tests.support.golden import assert_golden

FAILING = "non_negative_payment_amount_cents"
KINDS = live_kinds(commands.COMMANDS)


class Shell:
    """The console as a person uses it: type a command or a button number, read what was printed."""

    def __init__(self, bot: BotHarness, *, user: str = "U1", channel: str = "C1") -> None:
        self.out: list[str] = []
        self.console = Console(
            bot.router, commands.COMMANDS, user=user, channel=channel, write=self.out.append
        )

    async def __call__(self, *lines: str, user: str | None = None) -> str:
        if user is not None:
            self.console.user = user
        start = len(self.out)
        for line in lines:
            await self.console.execute(line)
        return "".join(self.out[start:])

    async def follow(self, wait_s: float = 120) -> str:
        start = len(self.out)
        assert await self.console.follow(wait_s, interval_s=0.3), "the run cards did not settle"
        return "".join(self.out[start:])

    @property
    def surface(self) -> Surface:
        return self.console.surface


class CountingOrchestrator:
    """The real orchestrator, counting the calls made to it (the run cards promise one batch read a tick)."""

    def __init__(self, inner: Orchestrator) -> None:
        self.inner = inner
        self.environment = inner.environment
        self.get_runs_calls = 0
        self.task_states_calls = 0

    async def get_runs(self, refs: Sequence[DagRunRef]) -> list[RunState]:
        self.get_runs_calls += 1
        return await self.inner.get_runs(refs)

    async def task_states(self, ref: DagRunRef) -> list[TaskState]:
        self.task_states_calls += 1
        return await self.inner.task_states(ref)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.fixture
def bot_settings(bot_settings: Settings) -> Settings:
    # These stories tick faster than one card's Slack budget allows (tests/test_live_cards.py).
    return bot_settings.model_copy(update={"card_min_interval_s": 0.0})


@dataclass
class Tick:
    cards: int
    get_runs: int
    task_states: int


async def tick_until_settled(bot: BotHarness, surface: Surface, timeout_s: float = 120) -> list[Tick]:
    counting = CountingOrchestrator(bot.backends.orchestrator)
    bot.backends.orchestrator = counting  # type: ignore[assignment]
    ticks: list[Tick] = []
    try:
        async with asyncio.timeout(timeout_s):
            while live := await cards.unsettled(bot.backends):
                before = (counting.get_runs_calls, counting.task_states_calls)
                await cards.tick(bot.backends, surface, KINDS)
                ticks.append(
                    Tick(
                        len(live), counting.get_runs_calls - before[0], counting.task_states_calls - before[1]
                    )
                )
                await asyncio.sleep(0.3)
    finally:
        bot.backends.orchestrator = counting.inner
    return ticks


async def confirmations(bot: BotHarness) -> list[dict[str, Any]]:
    async with bot.backends.state.engine.connect() as conn:
        rows = await conn.execute(select(run_confirmations).order_by(run_confirmations.c.created_at))
        return [dict(r) for r in rows.mappings()]


async def run_audit(bot: BotHarness) -> list[dict[str, Any]]:
    return [
        {"text": e.text, "outcome": e.outcome, **e.detail}
        for e in reversed(await bot.backends.state.recent_audit(100, command="run"))
    ]


async def finished(orchestrator: Orchestrator, ref: DagRunRef, timeout_s: float = 120) -> RunState:
    async with asyncio.timeout(timeout_s):
        while True:
            runs = await orchestrator.get_runs([ref])
            if runs and runs[0].finished:
                return runs[0]
            await asyncio.sleep(0.3)


def settled(out: str, requester: str = "U1") -> list[str]:
    """What settled cards said in their threads, mentioning who asked: `@U1 <the card's summary>`."""
    return [
        line.split(") ", 1)[1]
        for line in out.splitlines()
        if "(thread of #" in line and f") @{requester} " in line
    ]


# --- the local runner, through the console --------------------------------------------------------------


@pytest.mark.slow
async def test_user_succeeds_and_payment_fails_naming_its_test_and_its_failed_task_is_rerun(
    bot: BotHarness,
) -> None:
    shell = Shell(bot, user="U1", channel="C1")

    asked = await shell("/amd run user full_refresh=false")
    assert "Preparing the run of `amd_user`" in asked
    assert "Trigger amd_user?" in asked
    assert "`amd_user` (entity `user`)" in asked
    assert "local (dbt-duckdb demo)" in asked
    assert "Asked by      @U1" in asked
    assert "[1] Trigger  [2] Cancel" in asked
    assert not await cards.unsettled(bot.backends)  # nothing starts before Trigger

    started = await shell("1")
    assert "Triggered `amd_user`" in started
    assert "Run amd_user" in started
    assert "queued" in started
    assert "Already triggered" in await shell("1")  # a double click starts nothing more
    await shell("/amd run payment full_refresh=false", "1")

    ticks = await tick_until_settled(bot, shell.surface)
    out = "".join(shell.out)

    assert [t.get_runs for t in ticks] == [1] * len(ticks)  # every followed run in ONE call per tick
    # payment waits for user's build (one DuckDB writer): a queued run with no news costs no task read
    assert any(t.task_states < t.cards for t in ticks)
    user_end, payment_end = sorted(settled(out), key=lambda line: "amd_payment" in line)
    assert re.fullmatch(r"@U1 Run amd_user \(amd__\w+\): success", user_end)
    assert re.fullmatch(rf"@U1 Run amd_payment \(amd__\w+\) failed: 1 failed task: {FAILING}", payment_end)
    assert f"`{FAILING}`: failed" in out or f"`{FAILING}`: running → failed" in out  # the thread notes
    assert "Run: running → failed" in out
    user_run, payment_run = (c["dag_run_id"] for c in await confirmations(bot))
    assert [r.run_id for r in await bot.backends.orchestrator.latest_runs(["amd_user"], 50)].count(
        user_run
    ) == 1

    asked_again = await shell("1")  # the failed card's Re-run failed tasks
    assert "Re-run the failed tasks of amd_payment?" in asked_again
    assert f"Failed tasks  `{FAILING}`" in asked_again
    assert "(thread of #" in asked_again  # asked in the card's thread: an answer would replace the card
    rerun = await shell("1")
    assert f"re-runs `{FAILING}` of run `{payment_run}`" in rerun
    assert "Re-run of failed tasks: amd_payment" in rerun
    followed = await shell.follow()
    (end,) = settled(followed)
    assert end.endswith(
        f"Re-run of failed tasks: amd_payment ({payment_run}) failed: 1 failed task: {FAILING}"
    )

    status = await shell("/amd run status payment")
    assert "Latest runs of amd_payment" in status
    assert payment_run in status
    assert "failed" in status
    audit = await run_audit(bot)
    presses = [a for a in audit if a["text"] == "[button run.trigger]"]
    assert [(a["dag_id"], a["dag_run_id"], a["outcome"]) for a in presses] == [
        ("amd_user", user_run, "action"),
        ("amd_user", user_run, "action"),
        ("amd_payment", payment_run, "action"),
        ("amd_payment", payment_run, "action"),
    ]
    assert presses[1]["repeat"] is True
    assert presses[3]["rerun"] is True
    assert presses[3]["cleared"] == [FAILING]


@pytest.mark.slow
async def test_a_followed_run_keeps_updating_after_a_restart(bot_settings: Settings) -> None:
    # amd_user may skip the confirmation here; payment is "production" and still asks.
    settings = bot_settings.model_copy(
        update={"run_skip_confirmation": ["amd_user", "amd_payment"], "run_production": ["amd_pay*"]}
    )
    async with running_bot(settings) as first:
        shell = Shell(first)
        assert "Trigger amd_payment?" in await shell("/amd run payment full_refresh=false")
        started = await shell("/amd run user full_refresh=false")
        assert "Triggered `amd_user`" in started
        assert "Trigger amd_user?" not in started
        (card,) = await cards.unsettled(first.backends)
        ref = DagRunRef(*card.key.split("/", 1))
        assert (await finished(first.backends.orchestrator, ref)).state == "success"
        # the bot stops before any tick saw the run end: its card still says queued

    async with running_bot(settings) as second:
        assert [c.key for c in await cards.unsettled(second.backends)] == [card.key]
        followed = await Shell(second).follow()

    assert "success" in followed
    assert "Run: queued → success" in followed
    assert re.search(rf"@U1 Run amd_user \({ref.run_id}\): success", followed)


# --- over Slack's HTTP path -----------------------------------------------------------------------------


def block_actions(bot: BotHarness, element: dict[str, Any], *, user: str, channel: str) -> tuple[bytes, str]:
    """A click on the (ephemeral) confirmation's button, and the click's own response_url."""
    return bot.click_body(element, user=user, channel=channel, ephemeral=True)


def button(blocks: list[dict[str, Any]], label: str) -> dict[str, Any]:
    (found,) = [
        e for b in blocks if b["type"] == "actions" for e in b["elements"] if e["text"]["text"] == label
    ]
    return found


@pytest.mark.slow
async def test_over_slack_two_clicks_at_once_start_one_run_and_post_one_card(
    bot: BotHarness, slack_blocks_validator: Callable[[Any], list[str]]
) -> None:
    reply = await bot.slash("/amd run user full_refresh=false", user="U1", channel="C1")
    assert reply.status == 200
    assert "Preparing the run of `amd_user`" in reply.body
    (confirmation,) = await bot.answers(reply)
    assert confirmation["response_type"] == "ephemeral"  # only the requester sees the question
    assert slack_blocks_validator(confirmation["blocks"]) == []
    trigger = button(confirmation["blocks"], "Trigger")
    assert trigger["style"] == "primary"

    clicks = [block_actions(bot, trigger, user="U1", channel="C1") for _ in range(2)]
    statuses = await asyncio.gather(*(bot.post(body, sign(body)) for body, _ in clicks))
    assert [status for status, _ in statuses] == [200, 200]
    answers = [(await bot.slack.wait_for_response(url))[0] for _, url in clicks]

    assert sorted(a["text"].split(" ")[0] for a in answers) == ["Already", "Triggered"]
    assert all(a["replace_original"] for a in answers)  # the question turns into the answer
    (posted,) = await bot.slack.wait_for("chat.postMessage")
    await asyncio.sleep(0.3)  # a second card, if there were one, would have arrived by now
    (card,) = [m for m in bot.slack.messages("C1") if "thread_ts" not in m]
    assert card["ts"] == posted.response["ts"]
    assert "Run amd_user" in card["text"]

    await tick_until_settled(bot, SlackSurface(web_client(bot.backends.settings)))

    card = bot.slack.message("C1", card["ts"])
    assert slack_blocks_validator(card["blocks"]) == []
    assert "*success*" in json.dumps(card["blocks"])
    thread = [
        m["blocks"][0]["text"]["text"] for m in bot.slack.messages("C1") if m.get("thread_ts") == card["ts"]
    ]
    # Where the run was when the card was posted depends on the machine's speed; the change is noted, after
    # the task lines of a tick that first saw its tasks if the card was posted running (seen in CI).
    assert any(re.search(r"Run: (queued|running) → \*(running|success)\*", line) for line in thread), thread
    assert re.fullmatch(r"<@U1> Run amd_user \(amd__\w+\): success", thread[-1])
    runs = [c["dag_run_id"] for c in await confirmations(bot)]
    assert len(runs) == 1
    assert [r.run_id for r in await bot.backends.orchestrator.latest_runs(["amd_user"], 50)].count(
        runs[0]
    ) == 1


# --- asking, refusing, cancelling: no builds --------------------------------------------------------------


async def test_cancel_starts_nothing_and_a_later_trigger_is_refused(bot: BotHarness) -> None:
    shell = Shell(bot)
    await shell("/amd run payment rows=10")

    assert "Cancelled: `amd_payment` was not triggered." in await shell("2")
    assert "@U1 cancelled this; nothing was started." in await shell("1")
    assert "@U1 cancelled this" in await shell("2")

    (row,) = await confirmations(bot)
    assert (row["state"], row["decided_by"], row["conf"]) == ("cancelled", "U1", {"rows": 10})
    assert not await cards.unsettled(bot.backends)
    runs = await bot.backends.orchestrator.latest_runs(["amd_payment"], 100)
    assert row["dag_run_id"] not in {r.run_id for r in runs}
    cancel = next(a for a in await run_audit(bot) if a["text"] == "[button run.cancel]")
    assert (cancel["dag_id"], cancel["dag_run_id"]) == ("amd_payment", row["dag_run_id"])


async def test_an_expired_confirmation_triggers_nothing(bot_settings: Settings) -> None:
    async with running_bot(bot_settings.model_copy(update={"run_confirm_ttl_s": 0.0})) as bot:
        shell = Shell(bot)
        await shell("/amd run user full_refresh=false")

        answer = await shell("1")

        assert "This confirmation expired at" in answer
        assert "Ask again with `/amd run amd_user`" in answer
        assert "expired" in await shell("2")  # too late to cancel too, and nothing to cancel
        (row,) = await confirmations(bot)
        assert row["state"] == "expired"
        assert not await cards.unsettled(bot.backends)


async def test_only_the_requester_or_an_admin_may_press(bot_settings: Settings) -> None:
    async with running_bot(bot_settings.model_copy(update={"admins": ["U_ADMIN"]})) as bot:
        shell = Shell(bot, user="U1")
        await shell("/amd run user full_refresh=false")

        refused = await shell("1", user="U2")
        assert "Only @U1, who asked for this, or an amd-bot admin can press it." in refused
        (row,) = await confirmations(bot)
        assert row["state"] == "pending"

        assert "Cancelled" in await shell("2", user="U_ADMIN")
        (row,) = await confirmations(bot)
        assert (row["state"], row["decided_by"]) == ("cancelled", "U_ADMIN")
        refusal = next(a for a in await run_audit(bot) if a.get("refused"))
        assert (refusal["outcome"], refusal["dag_id"]) == ("usage", "amd_user")


async def test_access_rules_decide_who_runs_which_dag_where_and_are_named(bot_settings: Settings) -> None:
    rules = [
        # `run*:` covers asking (`run:`), the buttons (`run.trigger:`, …) and reading (`runs:`).
        AccessRule(action="run*:amd_user", users=["U1"], channels=["C_OPS"], name="ops may run amd_user"),
        AccessRule(action="run:amd_pay*", allow=False, name="payments DAGs are the payments team's"),
    ]
    async with running_bot(bot_settings.model_copy(update={"access": rules})) as bot:
        elsewhere = await Shell(bot, user="U1", channel="C_OTHER")("/amd run user full_refresh=false")
        other_user = await Shell(bot, user="U2", channel="C_OPS")("/amd run user full_refresh=false")
        payment = await Shell(bot, user="U1", channel="C_OPS")("/amd run payment full_refresh=false")
        ops = Shell(bot, user="U1", channel="C_OPS")
        allowed = await ops("/amd run user full_refresh=false")
        pressed_by_other = await ops("1", user="U2")

        default = "You may not `run:amd_user` here: no rule allows `run:amd_user` for you in this channel."
        assert default in elsewhere  # the channel
        assert default in other_user  # the user
        assert "You may not `run:amd_payment` here: payments DAGs are the payments team's." in payment
        assert "Trigger amd_user?" in allowed
        assert "You may not do that here: no rule allows `run.trigger:amd_user`" in pressed_by_other
        outcomes = [a["outcome"] for a in await run_audit(bot)]
        assert outcomes == ["denied", "denied", "denied", "ok", "denied"]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("user bad-key=1", "`bad-key` is not a conf key"),
        ("user 1st=2", "`1st` is not a conf key"),
        ("user a=1 a=2", "Conf key `a` is given twice."),
        ("user " + " ".join(f"k{i}=1" for i in range(21)), "That is 21 conf keys; at most 20."),
        ("user --date 2026-13-45", "`--date` needs a date as YYYY-MM-DD, not `2026-13-45`."),
        ("user --date 26-1-1", "`--date` needs a date as YYYY-MM-DD"),
        ("user --date", "`--date` needs a date as YYYY-MM-DD"),
        ("user --date 2999-01-01", "`--date 2999-01-01` is in the future; the latest logical date is today"),
        ("user --date=2020-01-01 --date 2020-01-02", "`--date` is given twice."),
        ("user --force", "Unknown option `--force`"),
        ("user now", "`now` is not `key=value`"),
        ("", "Which DAG or entity should run?"),
        ("status payment user", "`run status` takes at most one DAG or entity."),
    ],
)
async def test_bad_arguments_get_the_reason_and_the_usage(bot: BotHarness, text: str, reason: str) -> None:
    answer = await Shell(bot)(f"/amd run {text}")

    assert reason in answer
    assert "Usage: `/amd run DAG|ENTITY" in answer
    assert "Value error" not in answer  # the bot's words, not pydantic's
    assert "logical_date" not in answer  # nor a field name the user never typed
    assert not await confirmations(bot)


async def test_the_latest_logical_date_is_today_in_utc(bot: BotHarness) -> None:
    today = datetime.now(UTC).date()
    tomorrow = await Shell(bot)(f"/amd run user --date {today + timedelta(days=1)}")
    on_today = await Shell(bot)(f"/amd run user --date {today}")

    assert f"the latest logical date is today, {today} (UTC)." in tomorrow
    assert "Trigger amd_user?" in on_today


async def test_conf_values_are_typed_and_the_whole_conf_is_bounded(bot: BotHarness) -> None:
    asked = await Shell(bot)(
        "/amd run user rows=10 ratio=0.5 full=TRUE note='two words' big=12345678901234567890"
    )
    assert 'Conf          `{"rows": 10, "ratio": 0.5, "full": true, "note": "two words", ' in asked
    assert '"big": "12345678901234567890"}`' in asked  # past 18 digits a number stays text

    words = ["user", *(f"k{i}={'x' * 250}" for i in range(17))]
    with pytest.raises(UsageError, match="at most 4,096"):
        run_command.parse(words, bot.backends.catalog)


async def test_an_unknown_target_gets_a_suggestion(bot: BotHarness) -> None:
    shell = Shell(bot)

    typo = await shell("/amd run paymnt")
    not_a_name = await shell("/amd run 'pay ment'")

    assert "Looking for DAG `paymnt`" in typo  # not in the catalog: asked the orchestrator
    assert "No DAG or entity `paymnt`. Did you mean `payment`?" in typo
    assert "No DAG or entity `pay ment`. Did you mean `payment`?" in not_a_name  # refused before the ack
    assert "Did you mean `/amd run payment`" not in not_a_name
    assert not await confirmations(bot)


@asynccontextmanager
async def airflow_in_maintenance() -> AsyncIterator[AirflowOrchestrator]:
    """The real Airflow adapter against an Airflow behind a load balancer during an upgrade: the version
    endpoint answers (so the adapter knows it is Airflow 3), everything else is 503."""

    async def version(_request: web.Request) -> web.Response:
        return web.json_response({"version": "3.3.0"})

    async def upgrading(_request: web.Request) -> web.Response:
        return web.Response(status=503, text="upgrading")

    app = web.Application()
    app.router.add_get("/api/v2/version", version)
    app.router.add_route("*", "/{tail:.*}", upgrading)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    airflow = AirflowOrchestrator.with_password(url, "amd", SecretStr("pw"), attempts=1)
    try:
        yield airflow
    finally:
        await airflow.close()
        await runner.cleanup()


@pytest.mark.slow
async def test_an_unavailable_orchestrator_gets_a_clear_answer_and_a_press_can_be_retried(
    bot: BotHarness,
) -> None:
    local = bot.backends.orchestrator
    shell = Shell(bot)
    async with airflow_in_maintenance() as down:
        try:
            bot.backends.orchestrator = down
            refused = await shell("/amd run user full_refresh=false")
            assert "⚠ Airflow at http://127.0.0.1:" in refused
            assert "503 Service Unavailable" in refused
            assert "`/amd run DAG|ENTITY" in await shell("/amd help")  # the bot stays up

            bot.backends.orchestrator = local
            await shell("/amd run user full_refresh=false")
            bot.backends.orchestrator = down
            retry = await shell("1")
            assert "to trigger DAG amd_user" in retry
            assert "Press again to retry: it cannot start a second run." in retry
            assert "[1] Trigger  [2] Cancel" in retry  # the question stays, with its buttons

            bot.backends.orchestrator = local
            assert "Triggered `amd_user`" in await shell("1")
            bot.backends.orchestrator = down
            await cards.tick(bot.backends, shell.surface, KINDS)  # the card waits for the orchestrator
            (card,) = await cards.unsettled(bot.backends)
            assert card.memo["state"] == "queued"
        finally:
            bot.backends.orchestrator = local
    assert "success" in await shell.follow()
    assert len(await confirmations(bot)) == 1


async def test_a_rerun_the_orchestrator_refused_is_not_claimed_and_its_buttons_stay(bot: BotHarness) -> None:
    asked = new_confirmation(
        kind="rerun", dag="amd_payment", requester="U1", channel="C1", now=datetime.now(UTC), ttl_s=600,
        run_id="scheduled__2026-11-30",
    )  # fmt: skip
    await Confirmations(bot.backends.state.engine).add(asked)
    card = {
        "ts": "1.000001",
        "blocks": to_blocks(confirmation_card(asked, environment=ENV, failed_tasks=[FAILING])),
    }

    local = bot.backends.orchestrator
    async with airflow_in_maintenance() as down:
        bot.backends.orchestrator = down
        try:
            (refused,) = await bot.answers(await bot.press("C1", card, "Re-run failed tasks"))
        finally:
            bot.backends.orchestrator = local
    shown = json.dumps(refused)
    assert "503 Service Unavailable" in shown
    assert "Press again to retry" in shown
    assert labels(refused) == ["Re-run failed tasks", "Cancel"]  # the question stays, with its buttons
    (row,) = await confirmations(bot)
    assert row["state"] == "pending"  # nothing was re-run, and the record does not say otherwise

    (again,) = await bot.answers(await bot.press("C1", refused | {"ts": card["ts"]}, "Re-run failed tasks"))
    assert f"Run `{asked.dag_run_id}` has no failed tasks now: nothing to re-run." in json.dumps(again)
    (row,) = await confirmations(bot)
    assert row["state"] != "triggered"


def labels(message: dict[str, Any]) -> list[str]:
    return [
        e["text"]["text"] for b in message.get("blocks", []) if b["type"] == "actions" for e in b["elements"]
    ]


async def test_two_replicas_pressing_at_once_decide_a_confirmation_exactly_once(state_url: str) -> None:
    replicas = [SqlState(state_url), SqlState(state_url)]
    try:
        await replicas[0].migrate()
        stores = [Confirmations(r.engine) for r in replicas]
        now = datetime.now(UTC)
        asked = [
            new_confirmation(
                kind="trigger", dag="amd_user", requester="U1", channel="C1", now=now, ttl_s=600,
                conf={"rows": 10, "note": "ünïcode"}, logical_date=datetime(2026, 11, 20, tzinfo=UTC),
            )
            for _ in range(10)
        ]  # fmt: skip
        for c in asked:
            await stores[0].add(c)

        wins = await asyncio.gather(
            *(stores[0].decide(c.id, "triggered", by="U1") for c in asked),
            *(stores[1].decide(c.id, "cancelled", by="U_ADMIN") for c in asked),
        )

        assert [t + c for t, c in zip(wins[:10], wins[10:], strict=True)] == [1] * 10  # one winner each
        stored = [await stores[1].get(c.id) for c in asked]
        assert all(c is not None and c.state in ("triggered", "cancelled") for c in stored)
        assert stored[0] is not None
        assert (stored[0].conf, stored[0].logical_date) == (asked[0].conf, asked[0].logical_date)
        assert stored[0].dag_run_id == f"amd__{asked[0].id}"
        expiring = replace(asked[0], id="late", dag_run_id="amd__late", expires_at=now)  # no time to live
        assert (await stores[0].add(expiring)).lapsed
        assert not await stores[0].decide("late", "triggered", by="U1")
        assert await stores[1].decide("late", "expired", by="U1")
        assert not await stores[0].decide("late", "expired", by="U1")
    finally:
        for replica in replicas:
            await replica.close()


async def test_a_confirmation_lives_its_time_by_the_stores_clock_whatever_the_asking_replicas_clock_says(
    state_url: str,
) -> None:
    state = SqlState(state_url)
    try:
        await state.migrate()
        store = Confirmations(state.engine)
        now = datetime.now(UTC)
        asked = {  # by replicas whose clocks are an hour behind and an hour ahead
            skew: new_confirmation(
                kind="trigger", dag="amd_user", requester="U1", channel="C1", now=now + skew, ttl_s=1.5
            )
            for skew in (timedelta(hours=-1), timedelta(hours=1))
        }  # fmt: skip
        stored = {skew: await store.add(c) for skew, c in asked.items()}

        assert all(abs(c.created_at - now) < timedelta(minutes=5) for c in stored.values())
        assert all(c.expires_at - c.created_at == timedelta(seconds=1.5) for c in stored.values())
        assert await store.decide(asked[timedelta(hours=-1)].id, "triggered", by="U1")  # not expired at once
        await asyncio.sleep(2)
        ahead = asked[timedelta(hours=1)].id
        assert not await store.decide(ahead, "triggered", by="U1")  # not alive for an hour
        assert await store.decide(ahead, "expired", by="U1")
    finally:
        await state.close()


# --- the cards, pinned ---------------------------------------------------------------------------------

AT = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


def _confirmation(kind: str = "trigger") -> Confirmation:
    return Confirmation(
        id="0123456789abcdef",
        kind=kind,  # type: ignore[arg-type]
        dag="amd_payment",
        conf={"rows": 10, "note": "<!channel> `x`"},
        logical_date=datetime(2026, 11, 20, tzinfo=UTC) if kind == "trigger" else None,
        requester="U1",
        channel="C1",
        created_at=AT,
        expires_at=datetime(2026, 11, 26, 8, 10, tzinfo=UTC),
        state="pending",
        dag_run_id="amd__0123456789abcdef" if kind == "trigger" else "scheduled__2026-11-26",
    )


def _run(
    state: str, *, url: str = "https://airflow.example/dags/amd_payment/runs/amd__0123456789abcdef"
) -> RunState:
    return RunState(
        "amd_payment",
        "amd__0123456789abcdef",
        state,  # type: ignore[arg-type]
        logical_date=datetime(2026, 11, 20, tzinfo=UTC),
        started_at=AT,
        ended_at=datetime(2026, 11, 26, 8, 3, 7, tzinfo=UTC) if state in ("success", "failed") else None,
        conf={"rows": 10},
        url=url,
    )


TASKS = {"payment": "success", "not_null_payment_id": "running", "unique_payment_id": "queued"}
FAILED_TASKS = {"payment": "success", FAILING: "failed", "publish": "upstream_failed"}
LOG = "https://airflow.example/dags/amd_payment/runs/amd__0123456789abcdef/tasks/x?try_number=1"

ENV = "composer: prod-eu"
LOCAL_LOG = "file:///home/amd/dbt/local_runs/amd_payment/run/attempt-1/logs/dbt.log"
CARDS = {
    "run_confirmation.json": confirmation_card(_confirmation(), environment=ENV, entity="payment"),
    "run_rerun_confirmation.json": confirmation_card(
        _confirmation("rerun"), environment=ENV, failed_tasks=[FAILING, "publish"]
    ),
    "run_card_running.json": run_card(
        _run("running"),
        RunMemo("running", TASKS),
        requester="U1",
        environment=ENV,
    ),
    "run_card_failed.json": run_card(
        _run("failed"),
        RunMemo("failed", FAILED_TASKS, {FAILING: LOG}),
        requester="U1",
        environment=ENV,
    ),
    "run_card_local_success.json": run_card(
        _run("success", url=LOCAL_LOG),
        RunMemo("success", {"payment": "success"}),
        requester="U1",
        environment="local (dbt-duckdb demo)",
    ),
}


@pytest.mark.parametrize("name", sorted(CARDS))
def test_run_cards_are_pinned_and_valid_block_kit(
    name: str, slack_blocks_validator: Callable[[Any], list[str]]
) -> None:
    message = CARDS[name]
    blocks = to_blocks(message)

    assert slack_blocks_validator(blocks) == []
    rendered = {"blocks": blocks, "console": to_text(message).splitlines(), "fallback": message.fallback}
    assert_golden(name, rendered | {"public": message.public, "live": message.live})


def test_user_typed_conf_cannot_mention_the_channel_or_break_the_code_span() -> None:
    text = json.dumps(to_blocks(CARDS["run_confirmation.json"]))
    assert "<!channel>" not in text
    assert "&lt;!channel&gt; 'x'" in text


async def test_an_entity_without_a_dag_is_left_for_the_orchestrator_to_find(bot: BotHarness) -> None:
    # The local runner builds it with its parents; Airflow is told which setting is missing
    # (tests/test_own_project.py has both stories).
    catalog = bot.backends.catalog
    entity = next(iter(catalog.entities.values()))
    bare = replace(catalog, entities={entity.name: replace(entity, dag=None)})
    args = run_command.parse([entity.name], bare)
    assert (args.dag, args.entity, args.verified) == (entity.name, entity.name, False)


# --- a real Airflow 3 ----------------------------------------------------------------------------------


def airflow_settings(base: Settings, server: AirflowServer) -> Settings:
    return base.model_copy(
        update={
            "orchestrator": "airflow",
            "airflow_url": server.url,
            "airflow_username": server.username,
            "airflow_password": SecretStr(server.password),
            "poll_interval_s": 0.5,
        }
    )


@pytest.mark.airflow
async def test_airflow_amd_ok_is_triggered_once_and_followed_to_success(
    bot_settings: Settings, airflow_server: AirflowServer
) -> None:
    async with running_bot(airflow_settings(bot_settings, airflow_server)) as bot:
        shell = Shell(bot)
        asked = await shell("/amd run amd_ok source=amd-bot")
        assert "Looking for DAG `amd_ok`" in asked
        assert "Trigger amd_ok?" in asked
        assert f"airflow: {airflow_server.url}" in asked

        started = await shell("1")
        again = await shell("1")
        followed = await shell.follow()

        (row,) = await confirmations(bot)
        run_id = row["dag_run_id"]
        assert f"[Open in Airflow: {airflow_server.url}/dags/amd_ok/runs/{run_id}]" in started
        assert f"Already triggered: {run_id} ({airflow_server.url}/dags/amd_ok/runs/{run_id})" in again
        assert re.search(rf"@U1 Run amd_ok \({run_id}\): success", followed)
        assert "`load`: " in followed
        assert "2 succeeded" in followed
        runs = await bot.backends.orchestrator.latest_runs(["amd_ok"], 100)
        assert [r.run_id for r in runs].count(run_id) == 1
        assert next(r.conf for r in runs if r.run_id == run_id) == {"source": "amd-bot"}
        assert run_id in await shell("/amd run status amd_ok")


@pytest.mark.airflow
async def test_airflow_amd_fail_fails_naming_its_task_and_rerun_failed_tasks_succeeds(
    bot_settings: Settings, airflow_server: AirflowServer, tmp_path: Path
) -> None:
    ok_file = tmp_path / "flaky-may-pass"
    async with running_bot(airflow_settings(bot_settings, airflow_server)) as bot:
        shell = Shell(bot)
        await shell(f"/amd run amd_fail ok_file={ok_file}", "1")
        failed = await shell.follow()
        (row,) = await confirmations(bot)
        run_id = row["dag_run_id"]

        assert settled(failed) == [f"@U1 Run amd_fail ({run_id}) failed: 1 failed task: flaky"]
        assert f"`flaky` (log ({airflow_server.url}/dags/amd_fail/runs/{run_id}/tasks/flaky" in failed
        assert "1 skipped" in failed  # publish: upstream failed

        ok_file.touch()
        asked = await shell("1")
        assert "Re-run the failed tasks of amd_fail?" in asked
        assert "`flaky`, `publish`" in asked
        assert f"re-runs `flaky`, `publish` of run `{run_id}`" in await shell("1")
        again = await shell.follow()

        assert re.search(rf"@U1 Re-run of failed tasks: amd_fail \({run_id}\): success", again)
        assert re.search(r"`flaky`: \w+ → success", again)
        audit = [a for a in await run_audit(bot) if a.get("rerun")]
        assert [(a["dag_id"], a["dag_run_id"], a["cleared"]) for a in audit] == [
            ("amd_fail", run_id, ["flaky", "publish"])
        ]


@pytest.mark.airflow
async def test_airflow_runs_the_dag_factorys_payment_dag_whose_failing_test_stops_the_model_after_it(
    bot_settings: Settings, airflow_server: AirflowServer
) -> None:
    """…and the failure watcher, reading the dbt results the factory's tasks kept (AMD_DBT_RESULTS_DIR),
    names that test as the cause of the failed run: no task is named after it."""
    project = airflow_server.factory
    assert project is not None
    shutil.copy(bot_settings.warehouse_path, project.warehouse)
    with duckdb.connect(str(project.warehouse)) as db:  # only dbt in the DAG can bring it back
        db.execute("DROP TABLE amd.payment")
    settings = airflow_settings(bot_settings, airflow_server).model_copy(
        update={"dbt_results_dir": project.results}
    )

    async with running_bot(settings) as bot:
        shell = Shell(bot)
        asked = await shell("/amd run payment")
        assert "`amd_payment` (entity `payment`)" in asked
        await shell("1")
        followed = await shell.follow(240)
        (row,) = await confirmations(bot)
        run_id = row["dag_run_id"]
        tasks = await bot.backends.orchestrator.task_states(DagRunRef("amd_payment", run_id))
        swept = await sweep(bot.backends, now=datetime.now(UTC))
        test = next(i for i in await Incidents(bot.backends.state.engine).all() if i.kind == "test")
        preview = await bot.console("/amd digest preview")

    assert settled(followed) == [f"@U1 Run amd_payment ({run_id}) failed: 1 failed task: test_payment"]
    assert {t.task_id: t.state for t in tasks} == {
        "run_payment": "success",
        "test_payment": "failed",
        "run_payment_daily": "upstream_failed",
        "test_payment_daily": "upstream_failed",
    }
    with duckdb.connect(str(project.warehouse), read_only=True) as db:
        (rows,) = db.execute("SELECT count(*) FROM amd.payment").fetchone() or (0,)
    assert rows > 0

    # What the tasks that ran dbt kept, under Airflow's own ids.
    assert sorted(p.name for p in (project.results / "amd_payment" / run_id).iterdir()) == [
        "run_payment.json",
        "test_payment.json",
    ]
    assert RUN_TESTS not in swept.unreadable
    assert (test.subject, test.entity, test.owner, test.dag) == (
        "non_negative_payment_amount_cents",
        "payment",
        "payments-team",
        "amd_payment",
    )
    assert (test.detail["run_id"], test.detail["task"]) == (run_id, "test_payment")
    payments = preview[preview.index("#amd-payments-support") :]
    assert f"DAG `amd_payment` failed (run `{run_id}`): `test_payment`" in payments
    assert "cause: test `non_negative_payment_amount_cents`" in payments
