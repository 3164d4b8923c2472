"""The migration ingest API: copy jobs report chunks over HTTP with a bearer token.

Mounted by bot/surfaces/serve.py. Every body is validated completely before anything is stored, so a refused
request (401, 404, 422) leaves the ledger exactly as it was. The server's clock stamps each report:
jobs on many machines then share one time line for rate, ETA and stall.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from pydantic import SecretStr, ValidationError

from bot.migration.client import ChunkReport, ExpectedTotals, ValidationReport
from bot.migration.ledger import Ledger, UnknownMigration, UnknownSource

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _problem(status: int, reason: str, **extra: Any) -> web.Response:
    return web.json_response({"error": reason, **extra}, status=status)


def migration_routes(ledger: Ledger, token: SecretStr, *, clock: Clock = _utcnow) -> list[web.RouteDef]:
    expected = token.get_secret_value().encode()
    if not expected.strip():
        # An empty token would let anyone who finds the endpoint write to the ledger.
        raise ValueError("the migration ingest token is empty")

    def authorised(request: web.Request) -> bool:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), expected)

    def guarded(handler: Callable[[web.Request, str], Awaitable[web.StreamResponse]]) -> Handler:
        async def guard(request: web.Request) -> web.StreamResponse:
            if not authorised(request):
                response = _problem(401, "missing or wrong bearer token")
                response.headers["WWW-Authenticate"] = 'Bearer realm="amd-bot migrations"'
                return response
            name = request.match_info["name"]
            try:
                ledger.spec(name)
                return await handler(request, name)
            except UnknownMigration:
                return _problem(404, f"no migration {name!r}", known=sorted(ledger.specs))
            except ValidationError as exc:
                detail = exc.errors(include_url=False, include_input=False, include_context=False)
                return _problem(422, _first(exc), detail=detail)
            except UnknownSource as exc:
                return _problem(422, str(exc))

        return guard

    async def report(request: web.Request, name: str) -> web.Response:
        chunk = ChunkReport.model_validate_json(await request.read())
        await ledger.report(name, chunk, at=clock())
        return web.json_response({"stored": True, "source": chunk.source, "chunk": chunk.chunk})

    async def expected_totals(request: web.Request, name: str) -> web.Response:
        totals = ExpectedTotals.model_validate_json(await request.read())
        await ledger.set_expected(name, totals, at=clock())
        return web.json_response({"stored": True})

    async def validation(request: web.Request, name: str) -> web.Response:
        checked = ValidationReport.model_validate_json(await request.read())
        await ledger.record_validation(name, checked, at=clock())
        return web.json_response({"stored": True})

    async def progress(request: web.Request, name: str) -> web.Response:
        state = await ledger.progress(name, now=clock())
        return web.json_response(asdict(state), dumps=_dumps)

    async def control(request: web.Request, name: str) -> web.Response:
        intent = await ledger.intent(name)
        return web.json_response({"intent": intent.intent, "by": intent.by, "at": intent.at}, dumps=_dumps)

    async def chunks(request: web.Request, name: str) -> web.Response:
        source = request.query.get("source", "")
        return web.json_response({"source": source, "chunks": await ledger.chunks(name, source)})

    return [
        web.post("/migrations/{name}/chunks", guarded(report)),
        web.put("/migrations/{name}/expected", guarded(expected_totals)),
        web.put("/migrations/{name}/validation", guarded(validation)),
        web.get("/migrations/{name}", guarded(progress)),
        web.get("/migrations/{name}/control", guarded(control)),
        web.get("/migrations/{name}/chunks", guarded(chunks)),
    ]


def _first(exc: ValidationError) -> str:
    error = exc.errors(include_url=False)[0]
    where = ".".join(str(p) for p in error.get("loc", ()))
    return f"{where}: {error['msg']}" if where else str(error["msg"])


def _dumps(value: Any) -> str:
    return json.dumps(value, default=lambda v: v.isoformat() if isinstance(v, datetime) else str(v))
