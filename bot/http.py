"""Serving Slack: aiohttp for the HTTP mode (/slack/events, /healthz, /readyz, /metrics, and the
migration ingest API when its token is set) and Socket Mode.

Both run the scheduler next to the app. HTTP mode is stateless, so any number of replicas can run
behind a load balancer on one PostgreSQL.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from sqlalchemy import text

from bot.command import Command
from bot.migration_http import migration_routes
from bot.migrations import Ledger
from bot.router import Router
from bot.scheduler import start_scheduler
from bot.slack_surface import SlackSurface
from bot.wiring import Backends

log = logging.getLogger(__name__)


def http_app(app: AsyncApp, backends: Backends, router: Router) -> web.Application:
    async def slack_events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

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
        return web.Response(text=prometheus_text(router), content_type="text/plain")

    web_app = web.Application(client_max_size=1024 * 1024)
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


def prometheus_text(router: Router) -> str:
    lines = [
        "# HELP amd_commands_total Commands and button presses handled, by outcome.",
        "# TYPE amd_commands_total counter",
        *(
            f'amd_commands_total{{command="{c}",outcome="{o}"}} {n}'
            for (c, o), n in sorted(router.outcomes.items())
        ),
        "# HELP amd_command_seconds_total Time spent answering, by command.",
        "# TYPE amd_command_seconds_total counter",
        *(f'amd_command_seconds_total{{command="{c}"}} {s:.3f}' for c, s in sorted(router.seconds.items())),
    ]
    return "\n".join(lines) + "\n"


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
    runner = web.AppRunner(http_app(app, backends, router))
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    scheduler = start_scheduler(backends, SlackSurface(app.client), commands)
    log.warning("serving Slack over HTTP on %s:%d (/slack/events)", host, port)
    try:
        await until()
    finally:
        scheduler.shutdown(wait=False)
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
    scheduler = start_scheduler(backends, SlackSurface(app.client), commands)
    try:
        await handler.connect_async()  # type: ignore[no-untyped-call]
        await stopped()
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]
        try:
            await drain()
        finally:
            scheduler.shutdown(wait=False)
