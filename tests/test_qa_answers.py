"""What each kind of question issue 19 added gets, on the demo world through the console (the same
engine a help channel reaches): a known subject's status summary, the overall status, the freshness
history of a past moment, several intents at once, every kind of lineage origin — and silence on
chatter that only looks like a question about an entity."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.alerts.watch import sweep
from bot.core.command import Ctx
from bot.foundation.catalog import Catalog
from bot.state.freshness import FreshnessHistory, Sample
from bot.surfaces.console import ConsoleSurface
from commands.ask.engine import read, reply
from commands.ask.lineage_graph import origins, upstream
from tests.support.bot import BotHarness

HARBOUR = Path(__file__).parent / "projects" / "harbour"


async def ask(bot: BotHarness, question: str) -> str:
    return await bot.console(f"@amd {question}")


async def test_a_known_subject_with_no_clear_intent_gets_its_status_summary(bot: BotHarness) -> None:
    await bot.console("/amd test payment")
    for question in ("payment?", "how are transactions looking", "what's up with amd_payment"):
        out = await ask(bot, question)
        assert "`payment` is fresh: last load" in out, out  # freshness
        assert "Last run: " in out and "`amd_payment`" in out  # its DAG's last run
        assert "Tests: 1 of 8 failing: `non_negative_payment_amount_cents` (7 rows)" in out
        assert "No open incidents." in out or "open incident" in out
        assert "Owner: payments-team · support channel: #amd-payments-support" in out


async def test_a_question_about_nothing_in_particular_covers_every_kind_of_finding(bot: BotHarness) -> None:
    await bot.console("/amd test payment")
    before = await ask(bot, "all good this morning?")
    await sweep(bot.backends, now=datetime.now(UTC))
    after = await ask(bot, "is anything broken?")

    for out in (before, after):
        assert "Stale: `delivery_address`" in out
        assert "Failing dbt tests: `non_negative_payment_amount_cents`" in out
        assert "All clear" not in out
    # Before the watcher swept, its incidents were not read: named, never taken for none.
    assert "could not read incidents" in before and "could not read" not in after
    assert "open incident(s)" in after


async def test_a_past_moment_is_answered_from_history_or_said_to_be_unobserved(bot: BotHarness) -> None:
    unseen = await ask(bot, "was payment fresh at 6 yesterday morning?")  # before the bot was started
    seen_at = datetime.now(UTC).replace(second=0, microsecond=0)
    await sweep(bot.backends, now=seen_at)
    seen = await ask(bot, f"was payment fresh at {seen_at:%H:%M} today?")

    assert "I have no observation of `payment`" in unseen and "is fresh" not in unseen
    assert "`payment` was fresh" in seen and f"observed {seen_at:%Y-%m-%d %H:%M}" in seen


async def test_a_past_span_is_answered_from_every_observation_in_it(bot: BotHarness) -> None:
    yesterday = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=1)
    unseen = await ask(bot, "was payment stale at any point yesterday?")
    await sweep(bot.backends, now=yesterday)
    await sweep(bot.backends, now=yesterday + timedelta(hours=3))
    seen = await ask(bot, "was payment stale at any point yesterday?")

    assert f"I have no observation of `payment` from {yesterday:%a %d %b} 00:00" in unseen
    assert "`payment` was fresh at each of 2 observations" in seen and "is fresh" not in seen


async def test_asked_when_a_staleness_began_it_is_told_from_the_load_and_the_observations(
    bot: BotHarness,
) -> None:
    stale = await ask(bot, "when did delivery_address first go stale?")
    never = await ask(bot, "when did payment go stale?")
    swept = [datetime.now(UTC) - timedelta(hours=h) for h in (2, 1)]
    for at in swept:
        await sweep(bot.backends, now=at)
    watched = await ask(bot, "when exactly did the addresses go stale?")
    history = FreshnessHistory(bot.backends.state.engine)
    once = swept[0] - timedelta(hours=5)
    await history.record([Sample("payment", once, once - timedelta(days=2), False, 24.0)])
    was = await ask(bot, "when did payment go stale?")

    status = (await bot.backends.stats.status([bot.backends.catalog.entities["delivery_address"]]))[0]
    assert status.stale_since is not None
    began = f"went stale {status.stale_since:%a %d %b %H:%M}"
    assert began in stale and "its SLA is 24 h" in stale and "The failure watcher" not in stale, stale
    assert (
        began in watched
        and f"saw it stale at every observation kept, the oldest {swept[0]:%a %d %b %H:%M}" in watched
    )
    assert "`payment` is fresh, and stale at none of the observations kept" in never
    assert f"`payment` is fresh now; the failure watcher last saw it stale from {once:%a %d %b %H:%M}" in was


async def test_several_intents_are_answered_together(bot: BotHarness) -> None:
    out = await ask(bot, "is payment fresh and who owns it?")

    assert "`payment` is fresh" in out and "owned by payments-team" in out


async def test_lineage_names_every_kind_of_origin(bot: BotHarness, tmp_path: Path) -> None:
    demo = await ask(bot, "where does payment come from?")
    project = tmp_path / "harbour"
    shutil.copytree(HARBOUR, project)
    dbt = [str(Path(sys.executable).parent / "dbt"), "parse", "--profiles-dir", "."]
    subprocess.run(dbt, cwd=project, capture_output=True, timeout=300, check=True)
    harbour = Catalog.load(project / "target" / "manifest.json", {}, None)
    port_calls = harbour.entities["port_calls"]

    assert "from the sources (events) `events.events`" in demo
    found = origins(upstream(port_calls.unique_id, harbour.nodes))
    assert "seed.harbour.raw_port_calls" in found["seeds"] and not found["sources (events)"]


async def test_a_noun_in_no_entitys_place_is_chatter_not_a_missing_entity(bot: BotHarness) -> None:
    ctx = Ctx(user="U1", channel="C1", backends=bot.backends, surface=ConsoleSurface(lambda _: None))
    for chatter in ("is the coffee machine fixed?", "merged the payment refactor, thanks!", "lunch?"):
        question, _ = read(chatter, ctx)
        assert (await reply(question, ctx, direct=False, prefix="/amd")).message is None, chatter
    question, _ = read("is shipments fresh?", ctx)  # a word in an entity's place: told it is none
    said = (await reply(question, ctx, direct=False, prefix="/amd")).message
    assert said is not None and "shipments" in said.fallback
