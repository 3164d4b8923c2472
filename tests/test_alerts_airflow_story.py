"""Issue 22's story end to end, against the suite's real Airflow 3: a DAG fails → one alert; it succeeds →
the same message is edited to recovered and its thread has the recovery line; it fails again within the
suppression window → a reply in that thread, not a second message.

The bot watches `amd_flip` (it fails unless its conf says `succeed`) through AMD_ALERT_DAGS, with one route
telling failed runs at once to a FakeSlack channel. Each step is a real run, then what one watcher tick does:
a sweep, then the alert ticks, at the same `now`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import SecretStr

from bot.adapters.orchestrator.airflow import AirflowOrchestrator
from bot.alerts.watch import sweep
from bot.foundation.alert_routes import AlertRoute
from bot.foundation.ports import RunState
from bot.foundation.settings import Settings
from tests.support.airflow import AirflowServer
from tests.support.bot import BotHarness, running_bot
from tests.test_alerts import alert_until_settled, text_of
from tests.test_alerts_missed import run
from tests.test_alerts_threads import thread_of, top_level
from tests.test_cmd_run import airflow_settings

pytestmark = pytest.mark.airflow

# Only amd_flip's runs: a suite sharing this Airflow may fail other DAGs, which are not this story's.
OPS = AlertRoute(name="ops", channel="C_OPS", dags=["amd_flip"], immediate=["run"])


@pytest.fixture
async def bot(bot_settings: Settings, airflow_server: AirflowServer) -> AsyncIterator[BotHarness]:
    settings = airflow_settings(bot_settings, airflow_server).model_copy(
        update={"alert_dags": ["amd_flip"], "alert_routes": [OPS], "alert_suppress_s": 3600}
    )
    async with running_bot(settings) as harness:
        # Unwrapped, as in test_alerts_missed: `run` triggers and follows through the adapter itself.
        harness.backends.orchestrator = AirflowOrchestrator.with_password(
            airflow_server.url, airflow_server.username, SecretStr(airflow_server.password)
        )
        yield harness
        await harness.backends.orchestrator.close()


async def tick(bot: BotHarness) -> list[str]:
    """What the watcher does once a run ended: sweep, then alert, both at the same moment."""
    now = datetime.now(UTC)
    await sweep(bot.backends, now=now)
    return await alert_until_settled(bot, now)


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for b in message.get("blocks", []) if b["type"] == "actions"]


async def ended(bot: BotHarness, conf: dict[str, object], state: str) -> RunState:
    done = await run(bot, "amd_flip", conf)
    assert done.state == state, f"amd_flip run {done.run_id} ended {done.state}, not {state}"
    return done


async def test_a_dag_fails_recovers_and_fails_again_and_the_channel_has_one_alert_telling_it_all(
    bot: BotHarness,
) -> None:
    # 1. It fails: one alert, with its buttons.
    failed = await ended(bot, {}, "failed")
    assert await tick(bot) == ["run:amd_flip"]
    (alert,) = top_level(bot)
    assert f"DAG `amd_flip` failed (run `{failed.run_id}`)" in text_of(alert)
    assert buttons(alert), "a failed run's alert offers its Re-run"
    assert thread_of(bot, alert) == []

    # 2. It succeeds: the same message, edited to recovered, naming the run that fixed it; a thread line.
    fixed = await ended(bot, {"succeed": True}, "success")
    await tick(bot)
    (recovered,) = top_level(bot)
    assert recovered["ts"] == alert["ts"] and recovered.get("edited")
    assert len(bot.slack.calls_to("chat.update", ok=True)) == 1
    shown = text_of(recovered)
    assert "✓ recovered" in shown and f"by run `{fixed.run_id}`" in shown, shown
    assert not buttons(recovered), "no Re-run on a DAG that is green again"
    lines = thread_of(bot, alert)
    assert [line for line in lines if "✓ recovered at" in line and fixed.run_id in line], lines

    # 3. It fails again within the suppression window: a reply in the alert's thread, no new message.
    again = await ended(bot, {}, "failed")
    assert await tick(bot) == ["run:amd_flip"]
    assert [m["ts"] for m in top_level(bot)] == [alert["ts"]]
    lines = thread_of(bot, alert)
    assert [line for line in lines if "↻ failed again" in line and again.run_id in line], lines
    assert len(lines) == 2, lines  # the recovery, then the repeat: nothing else, nothing twice
