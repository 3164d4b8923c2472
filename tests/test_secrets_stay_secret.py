"""Every secret setting set to a marker value, then whole sessions run (the console entry point in a
subprocess, the HTTP path in process): no marker may show up in any log line, in stderr, or in
anything that reached Slack."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import subprocess
import sys
import urllib.parse
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from pydantic import SecretStr

from bot.foundation.ports import BackendUnavailable
from bot.foundation.settings import Settings
from bot.state.store import SqlState
from tests.slack_fake.web_api import FakeSlack
from tests.support import bot as harness
from tests.support.bot import running_bot
from tests.support.demo import process_env
from tests.support.postgres import scratch_database

ROOT = Path(__file__).resolve().parent.parent
MARK = "zq7-secret-marker"
SECRETS = {
    "SLACK_BOT_TOKEN": f"xoxb-{MARK}-bot",
    "SLACK_APP_TOKEN": f"xapp-{MARK}-app",
    "SLACK_SIGNING_SECRET": f"{MARK}-signing",
    "AMD_SNOWFLAKE_PASSWORD": f"{MARK}-snowflake",
    "AMD_SNOWFLAKE_PRIVATE_KEY_FILE_PWD": f"{MARK}-key-pwd",
    "AMD_SNOWFLAKE_PRIVATE_KEY": f"{MARK}-private-key",
    "AMD_AIRFLOW_PASSWORD": f"{MARK}-airflow",
    "AMD_MIGRATION_INGEST_TOKEN": f"{MARK}-ingest-token",
}
STATE_PASSWORD = f"{MARK}-state-pw"  # the local PostgreSQL trusts 127.0.0.1, so any password logs in


def with_password(url: str, password: str = STATE_PASSWORD) -> str:
    return url.replace("postgres@", f"postgres:{password}@", 1)


@pytest.fixture
async def state_url() -> AsyncIterator[str]:
    async for url in scratch_database("amd_secrets"):
        yield with_password(url)


def test_the_marker_list_covers_every_secret_setting() -> None:
    """A new secret setting must be added to SECRETS (state_url has a marker of its own)."""
    secret_fields = {
        name for name, field in Settings.model_fields.items() if "SecretStr" in str(field.annotation)
    }
    marked = {name.lower().removeprefix("amd_") for name in SECRETS}
    assert secret_fields == marked | {"state_url"}


@pytest.mark.postgres
def test_a_console_session_never_shows_a_secret(demo_settings: Settings, state_url: str) -> None:
    env = process_env(demo_settings, state_url, **SECRETS)
    commands = ["help", "stats", "stats payment", "stats paymnt", "test nosuch", "migration", "run"]
    texts = [f"/amd {command}" for command in commands]  # without the slash the console asks "did you mean"
    argv = [sys.executable, "-m", "bot.cli", "-v", "console"]
    for text in texts:
        argv += ["-c", text]

    done = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)

    assert done.returncode == 0, done.stderr[-2000:]
    assert "payment" in done.stdout  # the session did run
    assert "DEBUG" in done.stderr  # and logged in detail
    assert MARK not in done.stdout + done.stderr


@pytest.mark.postgres
async def test_the_http_path_never_shows_a_secret(
    bot_settings: Settings, state_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = bot_settings.model_copy(
        update={
            "state_url": SecretStr(state_url),
            "migration_ingest_token": SecretStr(SECRETS["AMD_MIGRATION_INGEST_TOKEN"]),
            "airflow_password": SecretStr(SECRETS["AMD_AIRFLOW_PASSWORD"]),
            "snowflake_password": SecretStr(SECRETS["AMD_SNOWFLAKE_PASSWORD"]),
        }
    )
    async with running_bot(settings) as bot:
        for text in ("/amd help", "/amd stats", "/amd stats payment"):
            reply = await bot.slash(text)
            assert reply.status == 200
            await bot.answers(reply)
        for only_acked in ("/amd stats paymnt", "/amd run", "/amd frobnicate"):
            assert (await bot.slash(only_acked)).status == 200
        await bot.post(b"command=%2Famd&text=help", {"Content-Type": "application/x-www-form-urlencoded"})
        payloads = json.dumps([(c.method, c.args, c.response) for c in bot.slack.calls], default=str)

    shown = caplog.text + payloads
    assert "chat.postMessage" in payloads or "response_url" in payloads  # Slack did get answers
    for secret in (MARK, harness.BOT_TOKEN, harness.SIGNING_SECRET, STATE_PASSWORD):
        assert secret not in shown, secret


def test_the_state_url_is_a_secret_in_every_repr() -> None:
    settings = Settings(_env_file=None, state_url=with_password("postgresql+asyncpg://postgres@db/amd"))  # type: ignore[call-arg]

    assert STATE_PASSWORD not in repr(settings) + str(settings) + str(settings.model_dump())
    assert settings.state_dsn.endswith("@db/amd")  # the adapter still gets the real URL


async def test_an_unreachable_state_store_is_reported_without_its_url() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    state = SqlState(f"postgresql+asyncpg://amd:{STATE_PASSWORD}@127.0.0.1:{port}/amd")
    try:
        with pytest.raises(BackendUnavailable) as failed:
            await state.migrate()
    finally:
        await state.close()

    assert STATE_PASSWORD not in str(failed.value)
    assert f"127.0.0.1:{port}" in str(failed.value)  # says where, so it can be fixed
    assert failed.value.__cause__ is None and failed.value.__suppress_context__


def test_a_malformed_state_url_is_reported_without_echoing_it() -> None:
    with pytest.raises(BackendUnavailable, match="AMD_STATE_URL") as failed:
        SqlState(f"postgresql+asyncpg://amd:{STATE_PASSWORD}@db:port/amd")

    assert STATE_PASSWORD not in str(failed.value)


async def test_a_server_logs_json_lines_with_a_request_id_and_never_a_secret(
    demo_settings: Settings, tmp_path: Path
) -> None:
    """`amd-bot -v serve --http` with AMD_LOG_FORMAT=json, every secret set: each stderr line is one
    JSON object, the lines of one Slack request share its id (the ack and the work after it), and no
    secret is in any of them."""
    port = _free_port()
    async with FakeSlack() as slack:
        env = process_env(
            demo_settings,
            f"sqlite+aiosqlite:///{tmp_path / 'state.db'}",
            AMD_ACCESS_OPEN="true",
            AMD_LOG_FORMAT="json",
            SLACK_API_URL=slack.api_url,
            **SECRETS,
        )
        argv = ["-m", "bot.cli", "-v", "serve", "--http", "--host", "127.0.0.1", "--port", str(port)]
        with (tmp_path / "stderr.log").open("wb") as stderr:
            server = await asyncio.create_subprocess_exec(
                sys.executable, *argv, env=env, cwd=ROOT, stderr=stderr
            )
        try:
            await _until_listening(port, server)
            async with aiohttp.ClientSession() as http:
                for text in ("help", "stats payment"):
                    response_url = slack.new_response_url()
                    fields = {"command": "/amd", "text": text, "user_id": "U1", "channel_id": "C1"}
                    body = urllib.parse.urlencode({**fields, "response_url": response_url}).encode()
                    headers = harness.sign(body, secret=SECRETS["SLACK_SIGNING_SECRET"])
                    async with http.post(
                        f"http://127.0.0.1:{port}/slack/events", data=body, headers=headers
                    ) as r:
                        assert r.status == 200
                    await slack.wait_for_response(response_url, timeout=60)
        finally:
            server.terminate()
            await server.wait()

    lines = (tmp_path / "stderr.log").read_text().splitlines()
    records = [json.loads(line) for line in lines if line.strip()]  # every line is JSON
    assert all({"time", "level", "logger", "message", "request_id"} <= r.keys() for r in records)
    by_request: dict[str, set[str]] = {}
    for record in records:
        by_request.setdefault(record["request_id"], set()).add(record["logger"])
    requests = {rid: loggers for rid, loggers in by_request.items() if rid != "-"}
    assert len(requests) == 2  # one id per slash command
    for loggers in requests.values():  # Bolt's dispatch, and the answer sent after the ack
        assert any(name.startswith("slack_bolt") for name in loggers), loggers
        assert "slack_sdk.webhook.async_client" in loggers, loggers
    assert MARK not in "\n".join(lines)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _until_listening(port: int, server: asyncio.subprocess.Process) -> None:
    for _ in range(600):
        assert server.returncode is None, "the server exited"
        try:
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        writer.close()
        return
    raise AssertionError("the server did not start within 60 s")
