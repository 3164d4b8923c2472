"""`/amd migration` end to end (signed slash commands and button presses over HTTP, FakeSlack recording
what Slack shows, ticks of the live-card scheduler), the stall alert, and the views pinned by golden
files."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import commands
from bot.core import cards
from bot.core.cards import LiveCard
from bot.foundation.access_rules import AccessRule
from bot.foundation.migration_specs import MigrationSpec, SourceSpec, default_migrations
from bot.foundation.ports import CardRef
from bot.foundation.settings import Settings
from bot.migration.client import ChunkReport, ExpectedTotals, ValidationReport
from bot.migration.ledger import Ledger
from bot.migration.progress import SourceTotals, Window, progress
from bot.render.console import to_text
from bot.render.slack import to_blocks
from bot.scheduler import live_kinds
from bot.surfaces.slack import SlackSurface, web_client
from commands import migration
from commands.migration import views
from tests.support.bot import BotHarness, running_bot
from tests.support.golden import assert_golden

NAME = "delivery_address_history"
SPEC = default_migrations()[0]
T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
OWNERS = {"data-platform": "S0DATAPLAT"}


@pytest.fixture
def bot_settings(bot_settings: Settings) -> Settings:
    # These stories tick faster than one card's Slack budget allows (tests/test_live_cards.py).
    return bot_settings.model_copy(update={"card_min_interval_s": 0.0})


# --- the views (pure), pinned by golden files --------------------------------------------------------


def state_of(
    *totals: SourceTotals, intent: str = "run", now: datetime = T0, window: Window | None = None
) -> Any:
    return progress(
        NAME,
        SPEC.target,
        totals,
        window or Window(0, 0),
        intent=intent,  # type: ignore[arg-type]
        now=now,
        window_length=timedelta(seconds=SPEC.rate_window_s),
        stall_after=timedelta(seconds=SPEC.stall_after_s),
    )


def source(name: str, kind: str, expected: int | None, rows: int, **kw: Any) -> SourceTotals:
    at = kw.pop("last_at", T0 - timedelta(seconds=5))
    return SourceTotals(name, kind, expected, rows=rows, first_at=T0 - timedelta(hours=1), last_at=at, **kw)


RUNNING = state_of(
    source("cassandra", "cassandra", 70_000, 70_000, chunks_ok=24, target_rows=70_000, validated_at=T0),
    source("mongodb", "mongodb", 55_000, 31_250, chunks_ok=13, failed=2),
    source("bigquery", "bigquery", 45_000, 0),
    source("snowflake", "snowflake", 30_000, 0, last_at=None),
    window=Window(60_000, 24),
)
WAITING = state_of(SourceTotals("cassandra", "cassandra", None), SourceTotals("mongodb", "mongodb", 55_000))
DONE = state_of(
    *(
        source(n, n, size, size, target_rows=size, validated_at=T0)
        for n, size in (
            ("cassandra", 70_000),
            ("mongodb", 55_000),
            ("bigquery", 45_000),
            ("snowflake", 30_000),
        )
    )
)
INVALID = state_of(
    source("cassandra", "cassandra", 70_000, 70_000, target_rows=69_990, validated_at=T0),
    source("mongodb", "mongodb", 55_000, 55_000, target_rows=55_000, validated_at=T0, checksums_compared=22,
           checksums_mismatched=1),
    source("bigquery", "bigquery", 45_000, 45_000, target_rows=45_000, validated_at=T0),
    source("snowflake", "snowflake", 30_000, 30_000, target_rows=30_000, validated_at=T0),
)  # fmt: skip
STALLED = state_of(source("mongodb", "mongodb", 55_000, 20_000, last_at=T0 - timedelta(minutes=17)))
PAUSED = state_of(source("mongodb", "mongodb", 55_000, 20_000), intent="pause")
FAILED = [("mongodb", "oid:[5bd1f9759b3c3d8e0000705e,5c336ba7bf2b7b2a000045cc)"), ("mongodb", "oid:[5c33…,)")]


def faces(message: Any) -> dict[str, Any]:
    return {"blocks": to_blocks(message), "console": to_text(message).splitlines(), "live": message.live}


@pytest.mark.parametrize(
    ("name", "build"),
    [
        ("migration_card_running.json", lambda: views.card(RUNNING, SPEC, FAILED, OWNERS)),
        ("migration_card_waiting.json", lambda: views.card(WAITING, SPEC, [], OWNERS)),
        ("migration_card_done.json", lambda: views.card(DONE, SPEC, [], OWNERS)),
        ("migration_card_invalid.json", lambda: views.card(INVALID, SPEC, [], OWNERS)),
        ("migration_card_stalled.json", lambda: views.card(STALLED, SPEC, [], OWNERS)),
        ("migration_card_paused.json", lambda: views.card(PAUSED, SPEC, [], OWNERS)),
        ("migration_list.json", lambda: views.listing([RUNNING, DONE])),
        ("migration_stall_alert.json", lambda: views.stall_alert(STALLED, SPEC, OWNERS)),
    ],
)
def test_views_are_pinned(name: str, build: Any, slack_blocks_validator: Any) -> None:
    message = build()
    assert slack_blocks_validator(to_blocks(message)) == []
    assert_golden(name, faces(message))


def test_the_text_bar_is_full_only_when_complete() -> None:
    assert views.bar(0.0, 10) == "░" * 10
    assert views.bar(50.0, 10) == "█" * 5 + "░" * 5
    assert views.bar(99.7, 10) == "█" * 9 + "░"
    assert views.bar(100.0, 10) == "█" * 10
    assert views.bar(None, 10) == "·" * 10


def test_milestones_failures_and_the_verdict_are_told_once() -> None:
    notes, memo = views.follow_up(RUNNING, FAILED, {})
    texts = [to_text(n) for n in notes]
    assert len(texts) == 2
    assert "reached 50 % (101,250 / 200,000 rows)" in texts[0]
    assert "2 chunk(s) failed" in texts[1]
    again, memo = views.follow_up(RUNNING, FAILED, memo)
    assert again == ()
    done, memo = views.follow_up(DONE, [], memo)
    assert ["reached 100 %" in to_text(done[0]), "Validation" in to_text(done[1])] == [True, True]
    assert views.follow_up(DONE, [], memo)[0] == ()


def test_a_card_settles_when_done_and_validated_or_when_validation_never_comes() -> None:
    assert views.settled(DONE, SPEC, T0)
    assert not views.settled(RUNNING, SPEC, T0)
    unvalidated = state_of(source("mongodb", "mongodb", 55_000, 55_000))
    assert not views.settled(unvalidated, SPEC, T0)
    assert views.settled(unvalidated, SPEC, T0 + timedelta(seconds=SPEC.stall_after_s + 10))


# --- through Slack (HTTP) ------------------------------------------------------------------------------


def text_of(message: dict[str, Any]) -> str:
    return json.dumps(message.get("blocks", []), ensure_ascii=False) + str(message.get("text", ""))


def cards_in(bot: BotHarness, channel: str) -> list[dict[str, Any]]:
    return [m for m in bot.slack.messages(channel) if "thread_ts" not in m and NAME in text_of(m)]


def thread(bot: BotHarness, channel: str, card: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in bot.slack.messages(channel) if m.get("thread_ts") == card["ts"]]


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.05)


async def posted_card(bot: BotHarness, channel: str) -> dict[str, Any]:
    """The migration card the command posts after its ack (the handler runs lazily), once the bot
    follows it: the card is stored just after Slack took it, and a tick before that finds nothing."""
    await until(lambda: bool(cards_in(bot, channel)))
    async with asyncio.timeout(30):
        while not await cards.unsettled(bot.backends):
            await asyncio.sleep(0.05)
    (card,) = cards_in(bot, channel)
    return card


async def tick(bot: BotHarness) -> int:
    """One run of the scheduler's live-card job, as `bot.scheduler` runs it every few seconds."""
    surface = SlackSurface(web_client(bot.backends.settings))
    return await cards.tick(bot.backends, surface, live_kinds(commands.COMMANDS))


def chunk(source: str, chunk_id: str, rows: int, **kw: Any) -> ChunkReport:
    return ChunkReport.model_validate({"source": source, "chunk": chunk_id, "rows": rows, **kw})


@pytest.fixture
async def ledger(bot: BotHarness) -> Ledger:
    ledger = Ledger.on(bot.backends.state, bot.backends.settings.migrations)
    totals = {"cassandra": 4_000, "mongodb": 2_000, "bigquery": 2_000, "snowflake": 2_000}
    await ledger.set_expected(NAME, ExpectedTotals(sources=totals), at=datetime.now(UTC))
    return ledger


async def test_the_list_and_an_unknown_name(bot: BotHarness) -> None:
    (answer,) = await bot.answers(await bot.slash("/amd migration"))
    assert NAME in str(answer)
    assert "waiting" in str(answer)
    (answer,) = await bot.answers(await bot.slash("/amd migration delivery_adress_history"))
    assert f"Did you mean `{NAME}`?" in str(answer)
    refused = await bot.slash(f"/amd migration {NAME} stop")  # refused before the ack: in its body
    assert "is not `pause` or `resume`" in refused.body
    odd = await bot.slash("/amd migration 9-lives")
    assert "`9-lives` is not a migration name" in odd.body
    assert "String should match" not in odd.body  # the bot's words, not pydantic's


async def test_one_card_follows_the_migration_to_its_validated_end(
    bot: BotHarness, ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime.now(UTC)
    await ledger.report(NAME, chunk("cassandra", "token:(0,1]", 1_000), at=now)
    reply = await bot.slash(f"/amd migration {NAME}", user="U1", channel="C1")
    assert reply.status == 200
    assert reply.elapsed_s < 3.0
    assert "Reading the progress" in reply.body
    card = await posted_card(bot, "C1")
    assert "10.0 %" in text_of(card)
    assert "1,000 / 4,000" in text_of(card)

    # Past 25 % with a failed chunk: the card changes, and the thread hears about both.
    await ledger.report(NAME, chunk("cassandra", "token:(1,2]", 2_000), at=now)
    await ledger.report(NAME, chunk("mongodb", "oid:[a,b)", 0, status="failed"), at=now)
    assert await tick(bot) == 1
    notes = " ".join(text_of(m) for m in thread(bot, "C1", card))
    assert "reached 25 %" in notes
    assert "1 chunk(s) failed: mongodb `oid:[a,b)`" in notes

    # A tick right after, with only the throughput moving: no chat.update (Tier 3 is shared).
    updates = len(bot.slack.calls_to("chat.update"))
    await ledger.report(NAME, chunk("snowflake", "ids:[1,100]", 100), at=now)
    assert await tick(bot) == 0
    assert len(bot.slack.calls_to("chat.update")) == updates

    # Everything copied (the failed chunk retried ok) and validated: the card settles, the thread is told.
    monkeypatch.setattr(migration, "UPDATE_EVERY_S", 0.0)
    for name, rows in (("cassandra", 1_000), ("mongodb", 2_000), ("bigquery", 2_000), ("snowflake", 1_900)):
        cid = "oid:[a,b)" if name == "mongodb" else f"{name}:last"
        await ledger.report(NAME, chunk(name, cid, rows), at=datetime.now(UTC))
    for name, rows in (("cassandra", 4_000), ("mongodb", 2_000), ("bigquery", 2_000), ("snowflake", 2_000)):
        report = ValidationReport(source=name, target_rows=rows)
        await ledger.record_validation(NAME, report, at=datetime.now(UTC) + timedelta(seconds=1))
    assert await tick(bot) == 1
    final = bot.slack.message("C1", card["ts"])
    assert "done" in text_of(final)
    assert "Pause" not in text_of(final)
    assert ":white_check_mark: target counts and checksums match" in text_of(final)
    notes = " ".join(text_of(m) for m in thread(bot, "C1", card))
    assert "reached 100 %" in notes
    assert "Validation" in notes
    assert "<@U1>" in notes  # the settled card mentions whoever asked for it
    assert await cards.unsettled(bot.backends) == []
    assert await tick(bot) == 0


async def test_pause_and_resume_are_recorded_for_the_copy_jobs(bot: BotHarness, ledger: Ledger) -> None:
    (answer,) = await bot.answers(await bot.slash(f"/amd migration {NAME} pause", user="U5", channel="C5"))
    assert "<@U5> paused" in str(answer)
    intent = await ledger.intent(NAME)
    assert (intent.intent, intent.by) == ("pause", "U5")
    await bot.answers(await bot.slash(f"/amd migration {NAME} resume", user="U5", channel="C5"))
    assert (await ledger.intent(NAME)).intent == "run"


async def test_the_pause_button_on_the_card(bot: BotHarness, ledger: Ledger) -> None:
    await ledger.report(NAME, chunk("cassandra", "token:(0,1]", 1_000), at=datetime.now(UTC))
    await bot.slash(f"/amd migration {NAME}", user="U1", channel="C6")
    card = await posted_card(bot, "C6")
    await press(bot, "C6", card, "Pause")
    assert (await ledger.intent(NAME)).intent == "pause"
    (answer,) = thread(bot, "C6", card)
    assert "paused" in text_of(answer)
    assert await tick(bot) == 1  # the state changed: the card shows it and offers Resume
    assert "Resume" in text_of(bot.slack.message("C6", card["ts"]))


async def press(bot: BotHarness, channel: str, card: dict[str, Any], label: str, user: str = "U1") -> None:
    assert (await bot.press(channel, card, label, user)).status == 200
    await until(lambda: bool(thread(bot, channel, card)))


@pytest.fixture
async def guarded(bot_settings: Settings) -> AsyncIterator[BotHarness]:
    rules = [
        AccessRule(action="migration.*:*", users=["U1"]),
        AccessRule(action="migration.*:*", allow=False, name="only the migration team controls copies"),
        AccessRule(action="*"),
    ]
    async with running_bot(bot_settings.model_copy(update={"access": rules})) as harness:
        yield harness


async def test_only_those_allowed_may_pause(guarded: BotHarness) -> None:
    refused = await guarded.slash(f"/amd migration {NAME} pause", user="U2", channel="C7")
    assert f"You may not `migration.pause:{NAME}` here" in refused.body  # refused before the ack
    assert "only the migration team controls copies" in refused.body
    ledger = Ledger.on(guarded.backends.state, guarded.backends.settings.migrations)
    assert (await ledger.intent(NAME)).intent == "run"

    await guarded.slash(f"/amd migration {NAME}", user="U2", channel="C7")  # looking is allowed
    assert "Pause" in text_of(await posted_card(guarded, "C7"))
    (answer,) = await guarded.answers(await guarded.slash(f"/amd migration {NAME} pause", user="U1"))
    assert "<@U1> paused" in str(answer)


# --- the stall alert ---------------------------------------------------------------------------------


@pytest.fixture
async def watched(bot_settings: Settings) -> AsyncIterator[BotHarness]:
    spec = MigrationSpec(
        name="orders_history",
        target="amd.orders_history",
        sources=[SourceSpec(name="mongo", kind="mongodb", expected_rows=1_000)],
        channel="C9",
        owner="U0OWNER",
        stall_after_s=60,
    )
    async with running_bot(bot_settings.model_copy(update={"migrations": [spec]})) as harness:
        yield harness


async def test_a_stall_is_told_once_until_the_migration_moves_and_stalls_again(watched: BotHarness) -> None:
    ledger = Ledger.on(watched.backends.state, watched.backends.settings.migrations)
    surface = SlackSurface(web_client(watched.backends.settings))
    now = datetime.now(UTC)
    await ledger.report("orders_history", chunk("mongo", "oid:[0,1)", 100), at=now - timedelta(minutes=5))

    assert await migration.check_stalls(watched.backends, surface, now=now) == ["orders_history"]
    assert await migration.check_stalls(watched.backends, surface, now=now + timedelta(minutes=1)) == []
    (alert,) = watched.slack.messages("C9")
    assert "has stalled: no progress report for 5 min" in text_of(alert)
    assert "<@U0OWNER>" in text_of(alert)

    await ledger.report("orders_history", chunk("mongo", "oid:[1,2)", 100), at=now)  # it moves…
    assert await migration.check_stalls(watched.backends, surface, now=now + timedelta(seconds=30)) == []
    later = now + timedelta(minutes=3)  # …and stalls again
    assert await migration.check_stalls(watched.backends, surface, now=later) == ["orders_history"]
    assert len(watched.slack.messages("C9")) == 2


def test_an_unchanged_render_is_not_sent_again() -> None:
    message = views.card(RUNNING, SPEC, FAILED, OWNERS)
    _, memo = views.follow_up(RUNNING, FAILED, {})
    memo = {**memo, "shown_at": "2000-01-01T00:00:00+00:00"}
    live = LiveCard(1, "migration", NAME, CardRef("C1", "1.0"), "U1", memo, cards.fingerprint(message), 0)
    assert migration._update(live, RUNNING, FAILED, SPEC, OWNERS, T0) is None


async def test_the_same_command_in_the_console(bot: BotHarness, ledger: Ledger) -> None:
    await ledger.report(NAME, chunk("snowflake", "ids:[1,500]", 500), at=datetime.now(UTC))
    out = await bot.console("/amd migration", f"/amd migration {NAME}")
    assert "History migrations" in out
    assert "`█████░░░░░░░░░░░░░░░` 25.0 %  snowflake (snowflake)  500 / 2,000" in out
    assert "[1] Pause" in out
