"""Issue 20: `/amd run <dag> --from … --to …` makes one run per day after a confirmation that says how
many, which days, and which have a run already; on Airflow 3 it is ONE backfill (POST /api/v2/backfills),
on Airflow 2 a run per day whose ids come from the confirmation, so pressing twice adds nothing.
`--reprocess failed|completed` runs days that have a run again (Airflow 3 decides by itself; on Airflow 2
the bot clears those runs); `--max-active-runs` is Airflow 3's limit, stated as not applicable elsewhere."""

from __future__ import annotations

import asyncio
from datetime import date

import aiohttp
import pytest

from bot.adapters.orchestrator.airflow_http import AirflowHttp
from bot.foundation.ports import Orchestrator
from bot.foundation.settings import Settings
from commands.run.backfill import days_of
from tests.support.airflow import AirflowServer
from tests.support.bot import BotHarness, running_bot
from tests.test_cmd_run import Shell, airflow_settings, confirmations

DAYS = days_of(date(2026, 10, 1), date(2026, 10, 7))


async def parsed(airflow: Orchestrator, dag: str) -> None:
    """Wait until Airflow lists the DAG: the test DAGs are parsed after the harness's own."""
    async with asyncio.timeout(90):
        while dag not in await airflow.list_dags():
            await asyncio.sleep(1)


@pytest.mark.airflow
async def test_a_backfill_over_7_days_makes_7_runs_leaving_the_day_that_had_one(
    bot_settings: Settings, server: AirflowServer
) -> None:
    async with running_bot(airflow_settings(bot_settings, server)) as bot:
        airflow = bot.backends.orchestrator
        await parsed(airflow, "amd_daily")
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


SEPTEMBER = days_of(date(2026, 9, 1), date(2026, 9, 7))


@pytest.mark.airflow
async def test_reprocessing_failed_days_runs_the_2_failed_again_leaves_the_success_and_makes_4(
    bot_settings: Settings, server: AirflowServer
) -> None:
    async with running_bot(airflow_settings(bot_settings, server)) as bot:
        airflow = bot.backends.orchestrator
        http: AirflowHttp = airflow.http  # type: ignore[attr-defined]  # the metered adapter's own
        await parsed(airflow, "amd_reprocess")
        earlier = {1: "failed", 3: "failed", 5: "success"}  # days of SEPTEMBER that have a run, and its end
        for n, state in earlier.items():
            run = await airflow.trigger("amd_reprocess", f"earlier_{n}", {}, SEPTEMBER[n])
            path = ("dags", "amd_reprocess", "dagRuns", run.run_id)
            await http.call("PATCH", path, payload={"state": state}, action=f"mark a run {state}")
        shell = Shell(bot)

        asked = await shell(
            "/amd run amd_reprocess --from 2026-09-01 --to 2026-09-07 --reprocess failed --max-active-runs 2"
        )
        assert "2026-09-01 → 2026-09-07: 7 days, 4 new runs, 2 again" in asked
        assert "Have a run already  2026-09-02, 2026-09-04, 2026-09-06" in asked
        assert "Reprocess           `failed`: days whose run failed run again" in asked
        assert "Run again           2026-09-02, 2026-09-04" in asked
        limit = "at most this many of its runs at once" if server.major == 3 else "not applicable here"
        assert f"Max active runs     2: {limit}" in asked
        done = await shell("1", "1")  # Backfill, pressed twice

        assert "4 runs asked for 2026-09-01 → 2026-09-07, 2 to run again" in done
        assert "This backfill of `amd_reprocess` was started already" in done
        runs = {r.logical_date: r for r in await airflow.runs_on("amd_reprocess", SEPTEMBER)}
        assert sorted(runs) == SEPTEMBER  # one run a day: the failed ones again as the same run
        assert {n: runs[SEPTEMBER[n]].run_id for n in earlier} == {n: f"earlier_{n}" for n in earlier}
        assert runs[SEPTEMBER[5]].state == "success"  # left as it was
        # cleared and run again: no longer failed (a fast Airflow may have finished them already)
        assert {runs[SEPTEMBER[n]].state for n in (1, 3)} <= {"queued", "running", "success"}
        (row,) = await confirmations(bot)
        new = [r for day, r in runs.items() if day not in {SEPTEMBER[n] for n in earlier}]
        if server.major == 3:
            (made,) = await backfills(server, "amd_reprocess")
            assert (made["reprocess_behavior"], made["max_active_runs"]) == ("failed", 2)
            assert len(new) == 4
        else:
            assert sorted(r.run_id for r in new) == [
                f"{row['dag_run_id']}__2026-09-0{n}" for n in (1, 3, 5, 7)
            ]


async def test_backfill_options_are_checked_and_shown_on_the_local_confirmation(bot: BotHarness) -> None:
    shell = Shell(bot)

    asked = await shell(
        "/amd run user --from 2026-10-01 --to 2026-10-02 --reprocess=completed --max-active-runs 3"
    )

    assert "Reprocess           `completed`: days whose run finished, failed or not, run again" in asked
    assert "Run again           none" in asked
    assert "Max active runs     3: not applicable here, every run is made at once" in asked
    assert "Days under Run again run once more, as the same run" in asked
    (row,) = await confirmations(bot)
    assert (row["reprocess"], row["max_active_runs"]) == ("completed", 3)


async def backfills(server: AirflowServer, dag: str = "amd_daily") -> list[dict[str, object]]:
    """Airflow 3's own record of the backfills of a DAG."""
    async with aiohttp.ClientSession() as session:
        login = await session.post(
            f"{server.url}/auth/token", json={"username": server.username, "password": server.password}
        )
        jwt = (await login.json())["access_token"]
        reply = await session.get(
            f"{server.url}/api/v2/backfills",
            params={"dag_id": dag},
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
        (
            "/amd run user --from 2026-10-01 --to 2026-10-02 --reprocess all",
            "`--reprocess` is none, failed or",
        ),
        (
            "/amd run user --from 2026-10-01 --to 2026-10-02 --max-active-runs 0",
            "a whole number from 1, not `0`",
        ),
        (
            "/amd run user --from 2026-10-01 --to 2026-10-02 --max-active-runs",
            "a whole number from 1, not ``",
        ),
        ("/amd run user --reprocess failed", "`--reprocess` and `--max-active-runs` are a backfill's"),
        ("/amd run user --date 2026-10-01 --max-active-runs 2", "are a backfill's: add `--from` and `--to`"),
        (
            "/amd run user --from 2026-10-01 --to 2026-10-02 --reprocess none --reprocess failed",
            "given twice",
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
