"""A round-robin HTTP load balancer on loopback, as in front of amd-bot replicas in production: each
request goes to the next upstream in turn; one that refuses the connection (a dead replica) is skipped,
as a load balancer's health check would, and the request goes to the next. It records which upstream
served each request, so a test can show that a press landed elsewhere than the command before it.

    async with RoundRobin([a.url, b.url, c.url]) as proxy:
        await SlackSide(slack, proxy.url).slash("/amd stats payment")
        proxy.served[-1]   # (path, upstream url, status)
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from types import TracebackType
from typing import Self

import aiohttp
from aiohttp import web

from tests.slack_fake.server import LocalServer

# Hop-by-hop headers, and content-encoding: aiohttp's client hands over the body already decompressed, so
# passing a gzip upstream's header on would make the caller decompress plain text.
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "host"}
)


class RoundRobin:
    def __init__(self, upstreams: Sequence[str]) -> None:
        self.upstreams = list(upstreams)
        self._next = itertools.cycle(range(len(self.upstreams)))
        self.served: list[tuple[str, str, int]] = []
        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_route("*", "/{path:.*}", self._forward)
        self._server = LocalServer(app)
        self._session: aiohttp.ClientSession | None = None

    @property
    def url(self) -> str:
        return self._server.base_url

    def replace(self, old: str, new: str) -> None:
        """A restarted replica comes back on another address."""
        self.upstreams[self.upstreams.index(old)] = new

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._session is not None
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        for _ in range(len(self.upstreams)):
            upstream = self.upstreams[next(self._next)]
            try:
                async with self._session.request(
                    request.method, upstream + request.path_qs, data=body, headers=headers
                ) as resp:
                    answer = await resp.read()
                    self.served.append((request.path, upstream, resp.status))
                    kept = {k: v for k, v in resp.headers.items() if k.lower() not in HOP_BY_HOP}
                    return web.Response(status=resp.status, body=answer, headers=kept)
            except aiohttp.ClientConnectorError:
                continue  # nothing listens there: the next one
        self.served.append((request.path, "", 502))
        return web.Response(status=502, text="no upstream reachable")

    async def __aenter__(self) -> Self:
        self._session = aiohttp.ClientSession()
        await self._server.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._server.stop()
        if self._session is not None:
            await self._session.close()
