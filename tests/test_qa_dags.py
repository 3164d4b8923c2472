"""A DAG no entity declares is a subject of its own ("did amd_ok fail?", "amd_ok?"): the answer is its
last run, from the suite's real Airflow, never the list of every DAG's runs; a DAG-shaped name Airflow
does not know is said so, with the nearest it knows."""

from __future__ import annotations

import pytest

from bot.foundation.settings import Settings
from tests.support.airflow import AirflowServer
from tests.support.bot import running_bot
from tests.test_cmd_run import airflow_settings

pytestmark = pytest.mark.airflow


def _tells_its_last_run(out: str) -> bool:
    return any(said in out for said in ("has not run: no runs at all", "last ran", "failed (run"))


async def test_a_dag_named_alone_or_asked_about_gets_its_own_last_run(
    bot_settings: Settings, airflow_server: AirflowServer
) -> None:
    async with running_bot(airflow_settings(bot_settings, airflow_server)) as bot:
        for question in ("did amd_ok fail last night?", "amd_ok?", "what's the deal with amd_ok"):
            out = await bot.console(f"@amd {question}")
            assert "`amd_ok`" in out, out
            assert _tells_its_last_run(out), out
            assert "runs in the last 24 h" not in out and "No DAG ran" not in out, out  # not every DAG's
            assert "more: `/amd run status amd_ok`" in out, out
        unknown = await bot.console("@amd is the amd_okay dag scheduled?")
        assert "No DAG `amd_okay`. Did you mean `amd_ok`?" in unknown, unknown
        # what every DAG id shares ("amd_") is no likeness: nothing near is offered, the known ones are listed
        unlike = await bot.console("@amd did amd_invoices run?")
        assert "No DAG `amd_invoices`. Known: `amd_" in unlike and "Did you mean" not in unlike, unlike


async def test_a_dag_named_where_an_entity_would_be_is_answered_as_the_dag(
    bot_settings: Settings, airflow_server: AirflowServer
) -> None:
    """Asked "who owns amd_ledger?", the bot gives no entity's facts, no "about which entity?"."""
    async with running_bot(airflow_settings(bot_settings, airflow_server)) as bot:
        for question in ("who owns amd_ledger?", "is amd_ledger fresh?", "what is amd_ledger exactly"):
            out = await bot.console(f"@amd {question}")
            assert "No DAG `amd_ledger`." in out and "About which entity?" not in out, out
        for question in ("who owns amd_ok?", "is amd_ok fresh, and who owns it?"):
            out = await bot.console(f"@amd {question}")
            assert "`amd_ok` builds no entity I know, so it has no" in out, out
            assert "About which entity?" not in out and "Stale" not in out, out
            assert _tells_its_last_run(out), out
        both = await bot.console("@amd is amd_ok fresh, and who owns it?")
        assert "no freshness or owner of its own" in both, both
