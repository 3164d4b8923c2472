"""Issue 20: `/amd run <dag> --from … --to …` makes one run per day after a confirmation that says how
many, which days, and which have a run already; on Airflow 3 it is ONE backfill (POST /api/v2/backfills),
on Airflow 2 a run per day whose ids come from the confirmation, so pressing twice adds nothing."""

from __future__ import annotations

import asyncio
from datetime import date

import aiohttp
import pytest

from bot.foundation.settings import Settings
from commands.run.backfill import days_of
from tests.support.airflow import AirflowServer
from tests.support.bot import BotHarness, running_bot
from tests.test_cmd_run import Shell, airflow_settings, confirmations

DAYS = days_of(date(2026, 10, 1), date(2026, 10, 7))


@pytest.mark.airflow
async def test_a_backfill_over_7_days_makes_7_runs_leaving_the_day_that_had_one(
    bot_settings: Settings, server: AirflowServer
) -> None:
    async with running_bot(airflow_settings(bot_settings, server)) as bot:
        airflow = bot.backends.orchestrator
        async with asyncio.timeout(90):  # parsed after the harness's own DAGs
            while "amd_daily" not in await airflow.list_dags():
                await asyncio.sleep(1)
        await airflow.trigger("amd_daily", "earlier_run", {}, DAYS[2])
        shell = Shell(bot)

        asked = await shell("/amd run amd_daily --from 2026-10-01 --to 2026-10-07 day_note=x")
        assert "Backfill amd_daily?" in asked
        assert "2026-10-01 → 2026-10-07: 7 days, 6 new runs" in asked
        assert "Have a run already  2026-10-03" in asked

        done = await shell("1", "1")  # Backfill, pressed twice

        assert "6 runs asked for 2026-10-01 → 2026-10-07" in done
        runs = await airflow.runs_on("amd_daily", DAYS)
        assert sorted(r.logical_date for r in runs if r.logical_date) == DAYS  # one a day, no more
        assert [r.run_id for r in runs if r.logical_date == DAYS[2]] == ["earlier_run"]
        assert all(r.conf == {"day_note": "x"} for r in runs if r.run_id != "earlier_run")
        (row,) = await confirmations(bot)
        assert (row["kind"], row["state"]) == ("backfill", "triggered")
        if server.major == 3:
            assert len(await backfills(server)) == 1


async def backfills(server: AirflowServer) -> list[dict[str, object]]:
    """Airflow 3's own record of the backfills of amd_daily."""
    async with aiohttp.ClientSession() as session:
        login = await session.post(
            f"{server.url}/auth/token", json={"username": server.username, "password": server.password}
        )
        jwt = (await login.json())["access_token"]
        reply = await session.get(
            f"{server.url}/api/v2/backfills",
            params={"dag_id": "amd_daily"},
            headers={"Authorization": f"Bearer {jwt}"},
        )
        body = await reply.json()
    return list(body["backfills"])


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "/amd run user --from 2026-10-01",
            "A backfill needs both `--from YYYY-MM-DD` and `--to YYYY-MM-DD`.",
        ),
        (
            "/amd run user --from 2026-10-07 --to 2026-10-01",
            "`--from 2026-10-07` is after `--to 2026-10-01`.",
        ),
        ("/amd run user --date 2026-10-01 --from 2026-10-01 --to 2026-10-02", "give one or the other"),
        ("/amd run user --from 2026-10-01 --to 2099-01-01", "`--to 2099-01-01` is in the future"),
        (
            "/amd run user --from 2026-01-01 --to 2026-10-01",
            "That is 274 days, 274 runs; at most 100",
        ),
    ],
)
async def test_a_backfill_that_cannot_be_is_refused_before_any_confirmation(
    bot: BotHarness, text: str, problem: str
) -> None:
    assert problem in await Shell(bot)(text)
    assert await confirmations(bot) == []


async def test_the_local_backfill_confirmation_says_how_many_runs_and_which_days(bot: BotHarness) -> None:
    shell = Shell(bot)

    asked = await shell("/amd run user --from 2026-10-01 --to 2026-10-02 full_refresh=true")

    assert "Backfill amd_user?" in asked
    assert "2026-10-01 → 2026-10-02: 2 days, 2 new runs" in asked
    assert "Have a run already  none" in asked
    assert 'Conf                `{"full_refresh": true}`' in asked
    assert "[1] Backfill  [2] Cancel" in asked
    assert "Cancelled: `amd_user` was not triggered." in await shell("2")


@pytest.mark.slow
async def test_one_live_card_follows_the_whole_local_backfill_to_the_end(bot: BotHarness) -> None:
    shell = Shell(bot)
    await shell("/amd run user --from 2026-10-01 --to 2026-10-02")

    started = await shell("1", "1")  # Backfill, pressed twice
    followed = await shell.follow(240)

    assert "2 runs asked for 2026-10-01 → 2026-10-02, 2 made so far" in started
    assert started.count("Backfill amd_user\n") == 1  # one card, however often it was pressed
    assert "2026-10-01 → 2026-10-02 · 2 done · 0 running · 0 failed · 0 to go" in followed
    runs = await bot.backends.orchestrator.runs_on("amd_user", days_of(date(2026, 10, 1), date(2026, 10, 2)))
    assert len(runs) == 2
