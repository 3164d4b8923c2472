"""Issue 20: a link to the configured Airflow (a DAG, a run, a task) posted in Slack is unfurled into the
run's status card (`link_shared` → `chat.unfurl`), only for people who may read that DAG's runs
(`runs:<dag>`); links to other hosts are left alone."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from bot.adapters.orchestrator.airflow_runs import link_target
from bot.foundation.access_rules import AccessRule
from bot.foundation.settings import Settings
from bot.render.slack import to_blocks
from commands.run.views import RunMemo, run_card
from tests.support.airflow import AirflowServer
from tests.support.bot import BotHarness, running_bot
from tests.support.golden import assert_golden
from tests.test_cmd_run import FAILED_TASKS, LOG, _run, airflow_settings
from tests.test_orchestrator_airflow import follow, ui_url

BASE = "https://airflow.example.com"


@pytest.mark.parametrize(
    ("url", "target"),
    [
        (f"{BASE}/dags/amd_ok/runs/manual__1", ("amd_ok", "manual__1")),  # Airflow 3: a run
        (f"{BASE}/dags/amd_ok/runs/r%2B1/tasks/load?try_number=1", ("amd_ok", "r+1")),  # a task of it
        (f"{BASE}/dags/amd_ok", ("amd_ok", None)),  # a DAG: its latest run
        (f"{BASE}/dags/amd_ok/grid?dag_run_id=r1&task_id=load&tab=logs", ("amd_ok", "r1")),  # Airflow 2
        ("https://elsewhere.example.com/dags/amd_ok/runs/r1", None),  # another host
        (f"{BASE}/home", None),
    ],
)
def test_a_link_names_the_dag_and_run_it_shows_and_other_links_nothing(
    url: str, target: tuple[str, str | None] | None
) -> None:
    assert link_target(BASE, url) == target


def test_the_unfurled_card_is_the_run_card_naming_nobody_and_valid_block_kit(
    slack_blocks_validator: Callable[[Any], list[str]],
) -> None:
    memo = RunMemo("failed", FAILED_TASKS, {t: LOG for t, s in FAILED_TASKS.items() if s == "failed"})
    blocks = to_blocks(run_card(_run("failed"), memo, requester=None, environment="composer: prod-eu"))

    assert slack_blocks_validator(blocks) == []
    assert_golden("run_unfurl.json", blocks)  # the failed run of run_card_failed.json, as an unfurl
    assert "Asked by" not in str(blocks)


def link_shared(url: str, *, user: str) -> dict[str, Any]:
    return {
        "type": "link_shared",
        "channel": "C1",
        "user": user,
        "message_ts": "1700000000.000100",
        "unfurl_id": "U-1",
        "source": "conversations_history",
        "links": [{"domain": "127.0.0.1", "url": url}],
    }


async def unfurled(bot: BotHarness, count: int) -> list[dict[str, Any]]:
    await asyncio.sleep(1.0)  # an unfurl that should not happen would have arrived by now
    return bot.slack.workspace.unfurls[:count] if count else bot.slack.workspace.unfurls


@pytest.mark.airflow
async def test_an_airflow_run_link_unfurls_into_its_card_for_readers_only(
    bot_settings: Settings, airflow_server: AirflowServer
) -> None:
    rules = [
        AccessRule(action="runs:amd_ok", users=["U1"], name="U1 reads amd_ok"),
        AccessRule(action="runs:*", allow=False, name="nobody else reads runs"),
    ]
    settings = airflow_settings(bot_settings, airflow_server).model_copy(update={"access": rules})
    async with running_bot(settings) as bot:
        airflow = bot.backends.orchestrator
        run = await airflow.trigger("amd_ok", f"amd_test__unfurl__{uuid.uuid4().hex[:8]}", {"k": 1}, None)
        await follow(airflow, run.ref)  # type: ignore[arg-type]
        link = ui_url(airflow_server, "amd_ok", run.run_id, "load")

        assert await bot.event(link_shared(link, user="U2"), event_id="Ev1") == 200
        elsewhere = link.replace("127.0.0.1", "localhost")
        assert await bot.event(link_shared(elsewhere, user="U1"), event_id="Ev2") == 200
        assert await unfurled(bot, 0) == []  # U2 may not read it; the other host is not Airflow's

        assert await bot.event(link_shared(link, user="U1"), event_id="Ev3") == 200
        (call,) = await bot.slack.wait_for("chat.unfurl")
        (blocks,) = [u["blocks"] for u in call.args["unfurls"].values()]
        text = str(blocks)
        assert "Run amd_ok" in text
        assert "*success*" in text
        assert "2 succeeded" in text
        assert run.run_id in text
