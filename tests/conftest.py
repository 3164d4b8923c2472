"""Shared fixtures. The demo world is built once per session; everything else is per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.foundation.settings import Settings
from demo.nightly import nightly
from tests.slack_fake.blocks import validate_blocks
from tests.support.airflow import AirflowServer, airflow_server  # noqa: F401 - a fixture
from tests.support.airflow2 import airflow2_server  # noqa: F401 - a fixture
from tests.support.bot import BotHarness, running_bot
from tests.support.demo import demo_settings  # noqa: F401 - a fixture
from tests.support.postgres import scratch_database


@pytest.fixture
def slack_blocks_validator() -> Callable[[Any], list[str]]:
    """Slack's own Block Kit rules (as FakeSlack enforces them), for golden-file tests."""
    return validate_blocks


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def state_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """A state store URL on each dialect: SQLite (the embedded default) and a scratch PostgreSQL
    database (what several replicas share). Shared by a module's tests."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('state') / 'state.db'}"
        return
    async for url in scratch_database("amd_test"):
        yield url


@pytest.fixture
def bot_settings(demo_settings: Settings, tmp_path: Path) -> Settings:  # noqa: F811
    """The demo world with a state store of this test's own."""
    state_url = SecretStr(f"sqlite+aiosqlite:///{tmp_path / 'state.db'}")
    return demo_settings.model_copy(update={"state_url": state_url})


@pytest.fixture(scope="module")
async def after_nightly(demo_settings: Settings) -> Settings:  # noqa: F811
    """The demo world after `amd-bot demo nightly`: every demo DAG ran once as its schedule would."""
    await nightly(demo_settings)
    return demo_settings


@pytest.fixture
async def bot(bot_settings: Settings) -> AsyncIterator[BotHarness]:
    async with running_bot(bot_settings) as harness:
        yield harness


@pytest.fixture(scope="module", params=["3", "2"], ids=["airflow3", "airflow2"])
def server(request: pytest.FixtureRequest) -> AirflowServer:
    """The suite's real Airflow 3, then its Airflow 2.10: a test that takes `server` runs on both."""
    server: AirflowServer = request.getfixturevalue(
        "airflow_server" if request.param == "3" else "airflow2_server"
    )
    return server
