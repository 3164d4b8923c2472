"""/metrics of a running bot (prometheus-client): scraped before and after real traffic, the counters
of what happened move, and nothing else has to be read to see it."""

import asyncio
from datetime import UTC, datetime

from prometheus_client.parser import text_string_to_metric_families

import commands
from bot.foundation.ports import CardRef
from bot.scheduler import start_scheduler
from bot.state.cards import CardStore
from bot.surfaces.slack import SlackSurface, web_client
from tests.support.bot import BotHarness

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(bot: BotHarness) -> Samples:
    async with bot._session.get(f"{bot.url}/metrics") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain; version=")
        text = await resp.text()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum over every series of `name` whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


async def test_a_command_moves_ack_command_backend_and_slack_counters(bot: BotHarness) -> None:
    before = await scrape(bot)
    # The chart upload's first attempt is refused with 429; the SDK waits Retry-After and retries.
    bot.slack.fail_next("files.getUploadURLExternal", status=429, retry_after=1)
    reply = await bot.slash("/amd stats payment", channel="C_PAY")
    await bot.answers(reply)
    await bot.slack.wait_for("files.completeUploadExternal")
    async with asyncio.timeout(30):  # the audit record is written after the answer went out
        while not await bot.backends.state.recent_audit(1, command="stats"):
            await asyncio.sleep(0.05)
    after = await scrape(bot)

    def moved(name: str, **labels: str) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    assert moved("amd_ack_seconds_count", kind="command") == 1
    assert moved("amd_command_seconds_count", command="stats", outcome="ok") == 1
    assert moved("amd_backend_call_seconds_count", system="warehouse", outcome="ok") >= 1
    assert moved("amd_backend_call_seconds_count", system="warehouse", outcome="error") == 0
    assert moved("amd_backend_call_seconds_count", system="state", call="INSERT", outcome="ok") >= 1
    assert moved("amd_slack_api_calls_total", method="response_url", status="200") == 1
    upload = "files.getUploadURLExternal"
    assert moved("amd_slack_api_calls_total", method=upload, status="429") == 1
    assert moved("amd_slack_api_calls_total", method=upload, status="200") == 1
    assert moved("amd_slack_rate_limited_total", method=upload) == 1
    assert moved("amd_slack_rate_limited_total", method="chat.postMessage") == 0


async def test_a_refused_command_counts_as_usage_under_its_command(bot: BotHarness) -> None:
    before = await scrape(bot)
    reply = await bot.slash("/amd stats paymnt")
    assert "Did you mean `payment`?" in reply.body
    after = await scrape(bot)
    labels = {"command": "stats", "outcome": "usage"}
    assert (
        total(after, "amd_command_seconds_count", **labels)
        - total(before, "amd_command_seconds_count", **labels)
        == 1
    )


async def test_live_cards_are_counted_by_kind_until_they_settle(bot: BotHarness) -> None:
    store = CardStore(bot.backends.state.engine)
    now = datetime.now(UTC)
    for n, kind in enumerate(("run", "run", "migration")):
        await store.add(
            kind=kind,
            key=f"k{n}",
            ref=CardRef("C1", f"1.00000{n}"),
            requester="U1",
            memo={},
            fingerprint="f",
            settled=False,
            now=now,
        )
    samples = await scrape(bot)
    assert total(samples, "amd_live_cards", kind="run") == 2
    assert total(samples, "amd_live_cards", kind="migration") == 1


async def test_the_scheduler_reports_how_late_its_jobs_start(bot: BotHarness) -> None:
    job = {"job": "housekeeping"}  # scheduled to run right at start
    before = total(await scrape(bot), "amd_scheduler_lag_seconds_count", **job)
    surface = SlackSurface(web_client(bot.backends.settings))
    schedule = start_scheduler(bot.backends, surface, commands.COMMANDS)
    try:
        for _ in range(100):
            if total(await scrape(bot), "amd_scheduler_lag_seconds_count", **job) > before:
                break
            await asyncio.sleep(0.1)
    finally:
        await schedule.stop()
    assert total(await scrape(bot), "amd_scheduler_lag_seconds_count", **job) == before + 1


async def test_a_refused_statement_counts_as_a_state_error(bot: BotHarness) -> None:
    before = await scrape(bot)
    assert await bot.backends.state.first_time("Ev0METRICS")
    assert not await bot.backends.state.first_time("Ev0METRICS")  # Slack's retry: the insert conflicts
    after = await scrape(bot)
    labels = {"system": "state", "call": "INSERT"}
    name = "amd_backend_call_seconds_count"
    assert total(after, name, **labels, outcome="ok") - total(before, name, **labels, outcome="ok") == 1
    assert total(after, name, **labels, outcome="error") - total(before, name, **labels, outcome="error") == 1
