"""A stand-in Airflow 3 REST server for the benchmarks: in-process (aiohttp), each `/api/v2/dags…` call
counted and answered after `LATENCY_S` (a nearby web server with a warm database), pages capped at
`MAX_PAGE` like Airflow's default [api] maximum_page_limit. A benchmark subclasses it with the routes
it measures, and `serving()` gives an AirflowOrchestrator pointed at it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web
from pydantic import SecretStr

from bot.adapters.orchestrator.airflow import AirflowOrchestrator

LATENCY_S = 0.002
MAX_PAGE = 100


class StandInAirflow:
    def __init__(self, version: str = "3.3.2") -> None:
        self.api_calls = 0
        self.app = web.Application(middlewares=[self._count_and_delay])
        self.app.add_routes(
            [
                web.get("/api/v2/version", lambda _: web.json_response({"version": version})),
                web.post("/auth/token", lambda _: web.json_response({"access_token": "t"}, status=201)),
            ]
        )

    @web.middleware
    async def _count_and_delay(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path.startswith("/api/v2/dags"):
            self.api_calls += 1
            await asyncio.sleep(LATENCY_S)
        response: web.StreamResponse = await handler(request)
        return response

    @asynccontextmanager
    async def serving(self) -> AsyncIterator[AirflowOrchestrator]:
        runner = web.AppRunner(self.app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        airflow = AirflowOrchestrator.with_password(f"http://127.0.0.1:{port}", "bench", SecretStr("bench"))
        try:
            yield airflow
        finally:
            await airflow.close()
            await runner.cleanup()


def page(items: list[dict[str, Any]], body: dict[str, Any], key: str) -> web.Response:
    """One page of `items` as Airflow answers a `…/list` call, at most MAX_PAGE long."""
    offset, limit = body.get("page_offset", 0), min(body.get("page_limit", 100), MAX_PAGE)
    return web.json_response({key: items[offset : offset + limit], "total_entries": len(items)})
