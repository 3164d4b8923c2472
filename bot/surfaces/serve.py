"""Serving Slack: aiohttp for the HTTP mode (/slack/events, /healthz, /readyz, /metrics, and the
migration ingest API when its token is set) and Socket Mode.

Both run the scheduler next to the app. HTTP mode is stateless, so any number of replicas can run
behind a load balancer on one PostgreSQL.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp, AsyncBoltRequest
from slack_bolt.request.internals import parse_body
from sqlalchemy import text

from bot.core import cards
from bot.core.backends import Backends
from bot.core.command import Command
from bot.core.router import Router
from bot.foundation.logs import request_scope
from bot.foundation.metrics import set_live_cards
from bot.migration.ingest import migration_routes
from bot.migration.ledger import Ledger
from bot.scheduler import start_scheduler
from bot.state.store import unreachable
from bot.surfaces.slack import SlackSurface, without_rate_limit_waits

log = logging.getLogger(__name__)
REPLAY_WINDOW_S = 300  # Slack's: a signed request older (or newer) than this is refused as a replay
_TIMESTAMP = re.compile(r"[0-9]{1,12}")  # ASCII digits, and few: int() of 5,000 digits raises


def http_app(app: AsyncApp, backends: Backends) -> web.Application:
    signing_secret = backends.settings.slack_signing_secret
    if signing_secret is None:
        raise ValueError(
            "Slack's HTTP endpoint needs SLACK_SIGNING_SECRET: unsigned requests are never served"
        )
    secret = signing_secret.get_secret_value().encode()

    async def slack_events(request: web.Request) -> web.Response:
        with request_scope():  # the refusals below are logged with the id too; Bolt's middleware keeps it
            return await slack_event(request)

    async def slack_event(request: web.Request) -> web.Response:
        # Checked before Bolt sees the request: Bolt answers a non-numeric timestamp, or a body that
        # is neither form nor JSON, with a 500 and a traceback. Bolt then verifies the signature again.
        raw = await request.read()
        refusal = slack_request_refusal(secret, request.headers, raw, now=time.time())
        if refusal is not None:
            log.debug("refused a request to /slack/events: %s", refusal)
            return web.json_response({"error": "invalid request"}, status=401)
        body = slack_body(raw, request.content_type)
        if body is None:
            return web.json_response({"error": "the body is neither a form nor a JSON object"}, status=400)
        headers: Any = request.headers  # Bolt reads a multidict as it reads a dict of lists
        bolt_request = AsyncBoltRequest(body=body, query=request.query_string, headers=headers)
        return await to_aiohttp_response(await app.async_dispatch(bolt_request))

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def readyz(_request: web.Request) -> web.Response:
        if backends.leases.stopping:  # the load balancer stops sending work while this one drains
            return web.json_response({"ok": False, "state": "stopping"}, status=503)
        try:
            async with backends.state.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as exc:
            log.warning("not ready: state store unreachable: %s", type(exc).__name__)
            return web.json_response({"ok": False, "state": "unreachable"}, status=503)
        return web.json_response({"ok": True, "entities": len(backends.catalog.entities)})

    async def metrics(_request: web.Request) -> web.Response:
        try:
            set_live_cards([card.kind for card in await cards.unsettled(backends)])
        except Exception as exc:  # the other metrics are worth serving while the store is away
            log.warning("live cards not counted: state store unreachable: %s", type(exc).__name__)
        return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    web_app = web.Application(client_max_size=1024 * 1024, middlewares=[store_away])
    web_app.add_routes(
        [
            web.post("/slack/events", slack_events),
            web.get("/healthz", healthz),
            web.get("/readyz", readyz),
            web.get("/metrics", metrics),
        ]
    )
    token = backends.settings.migration_ingest_token
    if token is not None:
        web_app.add_routes(migration_routes(Ledger.on(backends.state, backends.settings.migrations), token))
    return web_app


STORE_AWAY_RETRY_S = 5


@web.middleware
async def store_away(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A request that needs the state store while it is away (restarting, unreachable) is answered 503
    with Retry-After, so the client (a copy job, a load balancer) tries again; not a 500 and a traceback."""
    try:
        return await handler(request)
    except Exception as exc:
        if not unreachable(exc):
            raise
        log.warning(
            "%s %s: 503, the state store is unreachable (%s)",
            request.method,
            request.path,
            type(exc).__name__,
        )
        return web.json_response(
            {"error": "the state store is unreachable just now; try again shortly"},
            status=503,
            headers={"Retry-After": str(STORE_AWAY_RETRY_S)},
        )


def slack_request_refusal(
    secret: bytes, headers: Mapping[str, str], body: bytes, *, now: float
) -> str | None:
    """Why a request is not one Slack signed within the replay window, or None when it is."""
    timestamp = headers.get("X-Slack-Request-Timestamp", "")
    if not _TIMESTAMP.fullmatch(timestamp):
        return "missing or malformed timestamp"
    if abs(now - int(timestamp)) > REPLAY_WINDOW_S:
        return "timestamp outside the replay window"
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = b"v0=" + hmac.new(secret, base, hashlib.sha256).hexdigest().encode()
    given = headers.get("X-Slack-Signature", "").encode(errors="replace")
    return None if hmac.compare_digest(expected, given) else "signature does not match"


def slack_body(raw: bytes, content_type: str) -> str | None:
    """The body as text if it is what Slack sends (a form, or JSON, holding an object), else None.
    Parsed by Bolt's own parser, so what passes here Bolt can read."""
    try:
        text = raw.decode()
        parsed = parse_body(text, content_type)
    except ValueError:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return None
    return text if isinstance(parsed, dict) else None


async def serve_http(
    app: AsyncApp,
    router: Router,
    commands: Sequence[Command[Any]],
    *,
    host: str,
    port: int,
    until: Callable[[], Awaitable[None]],
) -> None:
    """Serve until `until()` returns: it waits for the stop signal and drains, while requests for the
    work still going (a Cancel press) are served."""
    backends = router.backends
    runner = web.AppRunner(http_app(app, backends))
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    schedule = start_scheduler(backends, SlackSurface(without_rate_limit_waits(app.client)), commands)
    log.warning("serving Slack over HTTP on %s:%d (/slack/events)", host, port)
    try:
        await until()
    finally:
        await schedule.stop()
        await runner.cleanup()


async def serve_socket_mode(
    app: AsyncApp,
    backends: Backends,
    commands: Sequence[Command[Any]],
    *,
    stopped: Callable[[], Awaitable[object]],
    drain: Callable[[], Awaitable[None]],
) -> None:
    """Serve until `stopped()` returns, then disconnect (Slack sends the next events to another
    connection) and `drain()` what is still going."""
    token = backends.settings.slack_app_token
    assert token is not None, "Socket Mode needs SLACK_APP_TOKEN"
    handler = AsyncSocketModeHandler(app, token.get_secret_value())
    schedule = start_scheduler(backends, SlackSurface(without_rate_limit_waits(app.client)), commands)
    try:
        await handler.connect_async()  # type: ignore[no-untyped-call]
        await stopped()
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]
        try:
            await drain()
        finally:
            await schedule.stop()
