"""A local Socket Mode server: Slack's WebSocket side of an app connection, on 127.0.0.1.

The protocol (docs.slack.dev/apis/events-api/using-socket-mode): the app calls apps.connections.open
with its app-level token and gets a one-time wss URL; on connect the server sends
``{"type": "hello", ...}``; requests arrive as envelopes ``{"envelope_id", "type", "payload",
"accepts_response_payload"}`` and the app answers each with ``{"envelope_id", "payload"?}`` (the ack);
``{"type": "disconnect", "reason": ...}`` asks the app to open a new connection before this one closes.

    async with SocketModeServer() as socket, FakeSlack(socket_mode=socket) as slack:
        ...  # start the app with AsyncWebClient(base_url=slack.api_url) and an xapp- token
        await socket.wait_for_connections(1)
        envelope_id = await socket.send_slash_command(slack.slash_command_payload("stats payment"))
        ack = await socket.wait_for_ack(envelope_id)
        assert ack.latency < 3
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from tests.slack_fake.identity import APP_ID, BOT_USER_ID, TEAM_ID
from tests.slack_fake.server import LocalServer

HOST = "fake-applink-1"


@dataclass(frozen=True)
class Envelope:
    envelope_id: str
    type: str  # slash_commands | events_api | interactive
    payload: dict[str, Any]
    connection: int  # index into SocketModeServer.connections
    sent_at: float  # time.monotonic()


@dataclass(frozen=True)
class Ack:
    envelope_id: str
    payload: dict[str, Any] | None  # what the app answered with (slash commands may answer a message)
    received_at: float  # time.monotonic()
    latency: float | None  # seconds from sending the envelope; None for an envelope never sent


@dataclass
class Connection:
    index: int
    ws: web.WebSocketResponse = field(repr=False)
    opened_at: float
    closed_at: float | None = None
    asked_to_leave: bool = False  # a disconnect message was sent; new envelopes go elsewhere


class SocketModeServer(LocalServer):
    def __init__(self, *, app_id: str = APP_ID) -> None:
        app = web.Application()
        app.router.add_get("/link/", self._link)
        super().__init__(app)
        self.app_id = app_id
        self.connections: list[Connection] = []
        self.envelopes: dict[str, Envelope] = {}
        self.acks: dict[str, Ack] = {}
        self._tickets: set[str] = set()
        self._closers: set[asyncio.Task[None]] = set()

    def issue_url(self) -> str:
        """A one-time WebSocket URL, as apps.connections.open returns it."""
        ticket = uuid.uuid4().hex
        self._tickets.add(ticket)
        return f"ws://127.0.0.1:{self.port}/link/?ticket={ticket}&app_id={self.app_id}"

    @property
    def open_connections(self) -> list[Connection]:
        return [c for c in self.connections if c.closed_at is None]

    async def wait_for_connections(self, count: int = 1, timeout: float = 10.0) -> list[Connection]:
        """Wait until `count` connections have been greeted since start; reconnects count too."""
        await self._wait(
            lambda: len(self.connections) >= count,
            timeout,
            lambda: f"expected {count} connections, got {len(self.connections)}",
        )
        return self.connections[:count]

    async def send_slash_command(self, payload: Mapping[str, Any], *, timeout: float = 10.0) -> str:
        return await self._send("slash_commands", payload, accepts_response_payload=True, timeout=timeout)

    async def send_event(
        self,
        event: Mapping[str, Any],
        *,
        event_id: str | None = None,
        retry_attempt: int = 0,
        retry_reason: str = "",
        timeout: float = 10.0,
    ) -> str:
        """Deliver `event` (e.g. an app_mention) inside an event_callback; reuse `event_id` for a retry."""
        callback = {
            "token": "unused-legacy-verification-token",
            "team_id": TEAM_ID,
            "api_app_id": self.app_id,
            "event": dict(event),
            "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
        }
        return await self._send(
            "events_api",
            callback,
            accepts_response_payload=False,
            timeout=timeout,
            extra={"retry_attempt": retry_attempt, "retry_reason": retry_reason},
        )

    async def send_interactive(
        self, payload: Mapping[str, Any], *, accepts_response_payload: bool = False, timeout: float = 10.0
    ) -> str:
        """A block_actions / view_submission / shortcut payload; view submissions may answer in the ack."""
        return await self._send(
            "interactive", payload, accepts_response_payload=accepts_response_payload, timeout=timeout
        )

    async def wait_for_ack(self, envelope_id: str, timeout: float = 10.0) -> Ack:
        await self._wait(
            lambda: envelope_id in self.acks,
            timeout,
            lambda: f"no ack for envelope {envelope_id}; acked so far: {sorted(self.acks)}",
        )
        return self.acks[envelope_id]

    async def disconnect(self, reason: str = "refresh_requested", *, close_after: float = 10.0) -> None:
        """Ask every open connection to go away, then close the ones still open after `close_after` s.

        Slack closes the old socket only a while after asking, so a well-behaved client has connected
        again before that; `close_after=0` drops the connections at once instead.
        """
        for connection in self.open_connections:
            connection.asked_to_leave = True
            await connection.ws.send_json(
                {"type": "disconnect", "reason": reason, "debug_info": {"host": HOST}}
            )
            if close_after <= 0:
                await connection.ws.close()
            else:
                task = asyncio.create_task(self._close_later(connection, close_after))
                self._closers.add(task)
                task.add_done_callback(self._closers.discard)

    async def stop(self) -> None:
        for task in list(self._closers):
            task.cancel()
        for connection in self.open_connections:
            await connection.ws.close()
        await super().stop()

    # --- server side ---------------------------------------------------------------------------------

    async def _link(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self._tickets:
            # URLs from apps.connections.open are single use; a stale one is refused at the handshake.
            return web.Response(status=401, text="invalid or used ticket")
        self._tickets.discard(ticket)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        connection = Connection(len(self.connections), ws, time.monotonic())
        self.connections.append(connection)
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": len(self.open_connections),
                "debug_info": {"host": HOST, "build_number": 1, "approximate_connection_time": 18060},
                "connection_info": {"app_id": self.app_id},
            }
        )
        await self._notify()
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    await self._on_text(message.data)
        finally:
            connection.closed_at = time.monotonic()
            await self._notify()
        return ws

    async def _on_text(self, data: str) -> None:
        received_at = time.monotonic()
        message = json.loads(data)
        envelope_id = message.get("envelope_id") if isinstance(message, dict) else None
        if not isinstance(envelope_id, str):
            return
        envelope = self.envelopes.get(envelope_id)
        latency = received_at - envelope.sent_at if envelope else None
        self.acks[envelope_id] = Ack(envelope_id, message.get("payload"), received_at, latency)
        await self._notify()

    async def _send(
        self,
        kind: str,
        payload: Mapping[str, Any],
        *,
        accepts_response_payload: bool,
        timeout: float,
        extra: Mapping[str, Any] | None = None,
    ) -> str:
        # Slack hands each envelope to exactly one connection; the newest one still welcome gets it.
        await self._wait(
            lambda: self._target() is not None,
            timeout,
            lambda: f"no open Socket Mode connection to send a {kind} envelope to",
        )
        connection = self._target()
        assert connection is not None
        envelope_id = str(uuid.uuid4())
        body = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": dict(payload),
            "accepts_response_payload": accepts_response_payload,
            **(extra or {}),
        }
        self.envelopes[envelope_id] = Envelope(
            envelope_id, kind, dict(payload), connection.index, time.monotonic()
        )
        await connection.ws.send_json(body)
        return envelope_id

    def _target(self) -> Connection | None:
        candidates = [c for c in self.open_connections if not c.asked_to_leave and not c.ws.closed]
        return candidates[-1] if candidates else None

    async def _close_later(self, connection: Connection, delay: float) -> None:
        await asyncio.sleep(delay)
        await connection.ws.close()
