"""What amd-bot refuses to start as: an HTTP endpoint that would serve unsigned requests, and a Slack
bot open to everyone by accident. The console and the demo stay open by default."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from pydantic import SecretStr
from slack_bolt.request.async_request import AsyncBoltRequest

import commands
from bot.core.router import Router
from bot.foundation.settings import Settings
from bot.surfaces.bolt import create_app
from bot.surfaces.serve import http_app
from bot.wiring import build_backends
from tests.support.demo import process_env

ROOT = Path(__file__).resolve().parent.parent
BOT_TOKEN = "xoxb-start-refusal-test"
APP_TOKEN = "xapp-start-refusal-test"
SIGNING_SECRET = "start-refusal-signing-secret-0123"


def amd_bot_env(settings: Settings, **variables: str) -> dict[str, str]:
    """A clean environment on the demo world built for this session (so nothing is built again)."""
    return process_env(
        settings,
        f"sqlite+aiosqlite:///{settings.home / 'start-refusals.db'}",
        SLACK_API_URL="http://127.0.0.1:9/api/",  # discard port: nothing may reach the real Slack
        **variables,
    )


def amd_bot(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,  # a bot that started instead of refusing would serve until killed
        check=False,
    )


def test_serve_http_refuses_to_start_without_a_signing_secret(demo_settings: Settings) -> None:
    env = amd_bot_env(
        demo_settings, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_APP_TOKEN=APP_TOKEN, AMD_ACCESS_OPEN="true"
    )

    done = amd_bot(env, "serve", "--http", "--port", "0")

    assert done.returncode == 2
    assert "SLACK_SIGNING_SECRET" in done.stderr
    assert "Traceback" not in done.stderr


async def test_an_app_without_a_signing_secret_cannot_be_mounted_on_http(bot_settings: Settings) -> None:
    socket_mode = bot_settings.model_copy(
        update={"slack_bot_token": SecretStr(BOT_TOKEN), "slack_app_token": SecretStr(APP_TOKEN)}
    )
    backends = await build_backends(socket_mode)
    try:
        router = Router(commands.COMMANDS, backends)
        with pytest.raises(ValueError, match="SLACK_SIGNING_SECRET"):
            http_app(create_app(socket_mode, backends, router), backends)
    finally:
        await backends.close()


async def test_a_socket_mode_app_still_refuses_an_unsigned_http_request(bot_settings: Settings) -> None:
    """Verification is never switched off, even where Slack does not sign (Socket Mode): an unsigned
    request that reaches the app some other way is refused, not run as whoever it names."""
    socket_mode = bot_settings.model_copy(
        update={"slack_bot_token": SecretStr(BOT_TOKEN), "slack_app_token": SecretStr(APP_TOKEN)}
    )
    backends = await build_backends(socket_mode)
    try:
        app = create_app(socket_mode, backends, Router(commands.COMMANDS, backends))
        form = {
            "command": "/amd",
            "text": "help",
            "user_id": "U_WHOEVER_IT_CLAIMS",
            "channel_id": "C1",
            "response_url": "http://127.0.0.1:9/hook",
            "team_id": "T1",
        }
        unsigned = AsyncBoltRequest(
            body=urllib.parse.urlencode(form),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )

        response = await app.async_dispatch(unsigned)
        await asyncio.sleep(0.3)

        assert response.status == 401
        assert await backends.state.recent_audit() == []  # nothing ran
    finally:
        await backends.close()


@pytest.mark.parametrize(
    ("mode", "args"),
    [
        ("socket", ("serve",)),
        ("http", ("serve", "--http", "--port", "0")),
    ],
)
def test_slack_modes_without_access_rules_refuse_to_start(
    demo_settings: Settings, mode: str, args: tuple[str, ...]
) -> None:
    tokens = {"SLACK_APP_TOKEN": APP_TOKEN} if mode == "socket" else {"SLACK_SIGNING_SECRET": SIGNING_SECRET}
    env = amd_bot_env(demo_settings, SLACK_BOT_TOKEN=BOT_TOKEN, **tokens)

    done = amd_bot(env, *args)

    assert done.returncode == 2
    assert "AMD_ACCESS_OPEN=true" in done.stderr
    assert "access" in done.stderr and "Traceback" not in done.stderr


def test_open_access_on_purpose_starts_the_http_server(demo_settings: Settings) -> None:
    port = _free_port()
    env = amd_bot_env(
        demo_settings,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        AMD_ACCESS_OPEN="true",
    )
    with _serving(env, port), urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as ok:
        assert ok.status == 200


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _serving(env: dict[str, str], port: int) -> Iterator[None]:
    args = [sys.executable, "-m", "bot.cli", "serve", "--http", "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(args, env=env, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                assert time.monotonic() < deadline, "the server did not start within 60 s"
                time.sleep(0.2)
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=30)
