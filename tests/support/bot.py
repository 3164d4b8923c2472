"""The whole bot for end-to-end tests: real adapters on the demo world, the real Bolt app behind its
real aiohttp endpoint, and FakeSlack (a recording Web API server) standing in for Slack.

    await bot.slash("/amd stats payment", user="U1")   # a correctly signed form post
    posts = await bot.answers(reply)                  # what reached the command's response_url
    text = await bot.console("/amd stats")            # the same router through the local console
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.parse
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from pydantic import SecretStr
from sqlalchemy import insert

import commands
from bot.core.backends import Backends
from bot.core.router import Router
from bot.foundation.inflight import settled
from bot.foundation.ports import Warehouse
from bot.foundation.settings import Settings
from bot.state.schema import claims
from bot.state.store import SqlState
from bot.surfaces.bolt import create_app
from bot.surfaces.console import Console
from bot.surfaces.serve import http_app
from bot.surfaces.slack import slack_session
from bot.wiring import build_backends
from tests.slack_fake.identity import BOT_USER_ID
from tests.slack_fake.web_api import FakeSlack

SIGNING_SECRET = "test-signing-secret-0123456789abcdef"
BOT_TOKEN = "xoxb-test-token-0123456789"
_ANSWERS_S = 5.0


def help_settings(settings: Settings, state_dir: Path, help_channel: str, **update: Any) -> Settings:
    """`settings` with one help channel and a state store of its own: claims no other test shares."""
    state_url = SecretStr(f"sqlite+aiosqlite:///{state_dir / 'state.db'}")
    return settings.model_copy(update={"state_url": state_url, "help_channels": [help_channel], **update})


def sign(body: bytes, *, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    base = b"v0:" + ts.encode() + b":" + body
    signature = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
        "Content-Type": "application/x-www-form-urlencoded",
    }


@dataclass
class Reply:
    status: int
    body: str
    response_url: str
    elapsed_s: float

    def json(self) -> Any:
        return json.loads(self.body) if self.body else {}


class BotHarness:
    def __init__(self, backends: Backends, router: Router, slack: FakeSlack, url: str) -> None:
        self.backends = backends
        self.router = router
        self.slack = slack
        self.url = url
        self._session = aiohttp.ClientSession()

    def form(self, text: str, *, user: str, channel: str, response_url: str) -> bytes:
        fields = {
            "token": "unused-legacy-verification-token",
            "team_id": "T1",
            "team_domain": "fintech",
            "channel_id": channel,
            "channel_name": "data-ops",
            "user_id": user,
            "user_name": user.lower(),
            "command": "/amd",
            "text": text.removeprefix("/amd").strip(),
            "api_app_id": "A1",
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": self.slack.new_trigger_id(),
        }
        return urllib.parse.urlencode(fields).encode()

    async def post(self, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
        async with self._session.post(f"{self.url}/slack/events", data=body, headers=headers) as resp:
            return resp.status, await resp.text()

    async def slash(self, text: str, *, user: str = "U1", channel: str = "C1") -> Reply:
        response_url = self.slack.new_response_url()
        body = self.form(text, user=user, channel=channel, response_url=response_url)
        started = time.monotonic()
        status, answer = await self.post(body, sign(body))
        return Reply(status, answer, response_url, time.monotonic() - started)

    async def answers(self, reply: Reply, count: int = 1, timeout: float = 30) -> list[dict[str, Any]]:
        """The posts that reached the command's response_url, once `count` of them arrived."""
        return await self.answers_at(reply.response_url, count, timeout)

    def click_body(
        self,
        element: dict[str, Any],
        *,
        user: str,
        channel: str,
        message_ts: str = "1.000001",
        ephemeral: bool = False,
    ) -> tuple[bytes, str]:
        """A click on a rendered button `element`, as the form body Slack posts (block_actions), and the
        click's own response_url."""
        response_url = self.slack.new_response_url(channel=channel, user=user)
        payload = {
            "type": "block_actions",
            "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": "T1"},
            "api_app_id": "A1",
            "token": "unused-legacy-verification-token",
            "container": {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel,
                "is_ephemeral": ephemeral,
            },
            "trigger_id": self.slack.new_trigger_id(),
            "team": {"id": "T1", "domain": "fintech"},
            "channel": {"id": channel, "name": "data-ops"},
            "response_url": response_url,
            "actions": [
                {
                    "type": "button",
                    "action_id": element["action_id"],
                    "block_id": "b1",
                    "text": element.get("text", {"type": "plain_text", "text": "?"}),
                    "value": element.get("value", ""),
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        return urllib.parse.urlencode({"payload": json.dumps(payload)}).encode(), response_url

    async def click(self, element: dict[str, Any], *, user: str, channel: str, message_ts: str) -> Reply:
        body, response_url = self.click_body(element, user=user, channel=channel, message_ts=message_ts)
        started = time.monotonic()
        status, answer = await self.post(body, sign(body))
        return Reply(status, answer, response_url, time.monotonic() - started)

    async def press(self, channel: str, card: dict[str, Any], label: str, user: str = "U1") -> Reply:
        """Click the button labelled `label` on a posted card (as FakeSlack holds it)."""
        elements = [e for b in card["blocks"] if b["type"] == "actions" for e in b["elements"]]
        (button,) = [e for e in elements if e["text"]["text"] == label]
        return await self.click(button, user=user, channel=channel, message_ts=card["ts"])

    async def event(self, event: dict[str, Any], *, event_id: str, retry: int = 0) -> int:
        """An Events API `event_callback` as Slack posts it, signed; `retry` > 0: Slack's retry of it."""
        envelope = {
            "token": "unused-legacy-verification-token",
            "team_id": "T1",
            "api_app_id": "A1",
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "authorizations": [{"team_id": "T1", "user_id": BOT_USER_ID, "is_bot": True}],
        }
        body = json.dumps(envelope).encode()
        headers = {**sign(body), "Content-Type": "application/json"}
        if retry:
            headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        status, _ = await self.post(body, headers)
        return status

    async def answers_at(
        self, response_url: str, count: int = 1, timeout: float = 30
    ) -> list[dict[str, Any]]:
        return await self.slack.wait_for_response(response_url, count=count, timeout=timeout)

    async def console(self, *texts: str) -> str:
        out: list[str] = []
        shell = Console(
            self.router, commands.COMMANDS, user="U_CONSOLE", channel="C_CONSOLE", write=out.append
        )
        for text in texts:
            await shell.execute(text)
        return "".join(out)

    async def close(self) -> None:
        await self._session.close()


@asynccontextmanager
async def running_bot(settings: Settings, *, warehouse: Warehouse | None = None) -> AsyncIterator[BotHarness]:
    """Start the bot's HTTP mode against a fresh FakeSlack; `warehouse` wraps the real one (e.g. slow)."""
    async with FakeSlack() as slack:
        configured = settings.model_copy(
            update={
                "slack_bot_token": _secret(BOT_TOKEN),
                "slack_signing_secret": _secret(SIGNING_SECRET),
                "slack_api_url": slack.api_url,
            }
        )
        backends = await build_backends(configured, warehouse=warehouse)
        router = Router(commands.COMMANDS, backends, prefix=configured.command)
        session = slack_session(configured)
        runner = web.AppRunner(http_app(create_app(configured, backends, router, session), backends))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = _port(site)
        harness = BotHarness(backends, router, slack, f"http://127.0.0.1:{port}")
        try:
            yield harness
        finally:
            await harness.close()
            # as a replica stops: answers already acked (their bookkeeping) end before the stores close; runs
            # a test left going are cancelled by the stores' closing, as before
            await settled(_ANSWERS_S, backends.answering)
            await runner.cleanup()
            await session.close()
            await backends.close()


def _secret(value: str) -> Any:
    from pydantic import SecretStr

    return SecretStr(value)


def _port(site: web.TCPSite) -> int:
    server = site._server  # aiohttp exposes the bound socket only here
    assert server is not None
    sockets: Sequence[Any] = server.sockets  # type: ignore[attr-defined]
    return int(sockets[0].getsockname()[1])


async def claimed_long_ago(state: SqlState, key: str) -> None:
    """A claim an hour old, as a replica that died an hour ago left it."""
    async with state.engine.begin() as conn:
        hour_ago = datetime.now(UTC) - timedelta(hours=1)
        await conn.execute(insert(claims).values(key=key, at=hour_ago, holder="dead"))
