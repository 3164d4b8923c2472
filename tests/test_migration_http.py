"""The migration ingest API over a real aiohttp server on 127.0.0.1, and the Reporter that talks to it.

Every refused request (401, 404, 422) must leave the ledger exactly as it was.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from pydantic import SecretStr
from sqlalchemy import delete, func, select

from bot.foundation.migration_specs import MigrationSpec, SourceSpec
from bot.migration.client import HttpTransport, IngestRefused
from bot.migration.ingest import migration_routes
from bot.migration.ledger import Ledger, Reporter
from bot.state.schema import migration_chunks, migration_control, migration_sources
from bot.state.store import SqlState

TOKEN = "ingest-token-0123456789abcdef"
SPEC = MigrationSpec(
    name="dah",
    target="amd.dah",
    sources=[SourceSpec(name="cass", kind="cassandra"), SourceSpec(name="mongo", kind="mongodb")],
)


async def serve(routes: list[web.RouteDef]) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.add_routes(routes)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}"


class Ingest:
    def __init__(self, url: str, state: SqlState, ledger: Ledger, session: aiohttp.ClientSession) -> None:
        self.url, self.state, self.ledger, self.session = url, state, ledger, session

    async def call(
        self, method: str, path: str, body: Any = None, *, token: str | None = TOKEN, raw: bytes | None = None
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        async with self.session.request(method, self.url + path, data=data, headers=headers) as resp:
            return resp.status, await resp.json()

    async def stored(self) -> int:
        """Rows in every ledger table: a refused request must not change it."""
        async with self.state.engine.connect() as conn:
            total = 0
            for table in (migration_chunks, migration_sources, migration_control):
                total += (await conn.execute(select(func.count()).select_from(table))).scalar_one()
            return total


@pytest.fixture(scope="module")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[str, SqlState, Ledger]]:
    state = SqlState(f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('ingest') / 'state.db'}")
    await state.migrate()
    ledger = Ledger.on(state, [SPEC])
    runner, url = await serve(migration_routes(ledger, SecretStr(TOKEN)))
    yield url, state, ledger
    await runner.cleanup()
    await state.close()


@pytest.fixture
async def ingest(server: tuple[str, SqlState, Ledger]) -> AsyncIterator[Ingest]:
    url, state, ledger = server
    async with state.engine.begin() as conn:
        for table in (migration_chunks, migration_sources, migration_control):
            await conn.execute(delete(table))
    async with aiohttp.ClientSession() as session:
        yield Ingest(url, state, ledger, session)


GOOD = {"source": "cass", "chunk": "token:-9223372036854775808..-4611686018427387905", "rows": 2500}


async def test_a_report_is_stored_and_shows_in_progress(ingest: Ingest) -> None:
    status, body = await ingest.call(
        "POST", "/migrations/dah/chunks", {**GOOD, "bytes": 1024, "checksum": "ab"}
    )
    assert (status, body["stored"]) == (200, True)
    status, body = await ingest.call("PUT", "/migrations/dah/expected", {"sources": {"cass": 10_000}})
    assert status == 200

    status, progress = await ingest.call("GET", "/migrations/dah")
    assert status == 200
    assert (progress["rows"], progress["state"]) == (2500, "running")
    cass = progress["sources"][0]
    assert (cass["source"], cass["rows"], cass["bytes"], cass["expected"], cass["percent"]) == (
        "cass",
        2500,
        1024,
        10_000,
        25.0,
    )
    assert datetime.fromisoformat(progress["last_report_at"]).tzinfo is not None


async def test_a_duplicate_report_is_counted_once(ingest: Ingest) -> None:
    for _ in range(3):
        assert (await ingest.call("POST", "/migrations/dah/chunks", GOOD))[0] == 200
    _, progress = await ingest.call("GET", "/migrations/dah")
    assert (progress["rows"], progress["sources"][0]["chunks_ok"]) == (2500, 1)


@pytest.mark.parametrize(
    "token",
    [None, "wrong-token", "", TOKEN[:-1], TOKEN + "x"],
    ids=["missing", "wrong", "empty", "short", "long"],
)
async def test_without_the_right_token_nothing_is_stored(ingest: Ingest, token: str | None) -> None:
    status, body = await ingest.call("POST", "/migrations/dah/chunks", GOOD, token=token)
    assert status == 401
    assert "token" in body["error"]
    assert (await ingest.call("GET", "/migrations/dah", token=token))[0] == 401
    assert await ingest.stored() == 0


async def test_a_basic_auth_header_is_not_a_bearer_token(ingest: Ingest) -> None:
    async with ingest.session.post(
        ingest.url + "/migrations/dah/chunks", json=GOOD, headers={"Authorization": f"Basic {TOKEN}"}
    ) as resp:
        assert resp.status == 401
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert await ingest.stored() == 0


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"source": "cass", "chunk": "t"}, "rows: Field required"),
        ({**GOOD, "rows": -1}, "rows: Input should be greater than or equal to 0"),
        (
            {**GOOD, "rows": "many"},
            "rows: Input should be a valid integer, unable to parse string as an integer",
        ),
        ({**GOOD, "status": "maybe"}, "status: Input should be 'ok' or 'failed'"),
        ({**GOOD, "chunk": ""}, "chunk: String should have at least 1 character"),
        ({**GOOD, "extra": 1}, "extra: Extra inputs are not permitted"),
        ({**GOOD, "source": "oracle"}, "dah has no source oracle (sources: cass, mongo)"),
    ],
)
async def test_a_malformed_report_is_refused_with_the_reason(ingest: Ingest, body: Any, reason: str) -> None:
    status, answer = await ingest.call("POST", "/migrations/dah/chunks", body)
    assert (status, answer["error"]) == (422, reason)
    assert await ingest.stored() == 0


async def test_a_body_that_is_not_json_is_refused(ingest: Ingest) -> None:
    status, answer = await ingest.call("POST", "/migrations/dah/chunks", raw=b'{"source": "cass", ')
    assert status == 422
    assert "Invalid JSON" in answer["error"]
    status, answer = await ingest.call("PUT", "/migrations/dah/expected", {"sources": {"cass": -5}})
    assert (status, answer["error"]) == (422, "Value error, expected row counts cannot be negative")
    assert await ingest.stored() == 0


async def test_an_unknown_migration_is_404(ingest: Ingest) -> None:
    status, answer = await ingest.call("POST", "/migrations/nope/chunks", GOOD)
    assert (status, answer["known"]) == (404, ["dah"])
    assert (await ingest.call("GET", "/migrations/nope"))[0] == 404
    assert await ingest.stored() == 0


async def test_control_shows_the_operators_intent(ingest: Ingest) -> None:
    assert (await ingest.call("GET", "/migrations/dah/control"))[1]["intent"] == "run"
    await ingest.ledger.set_intent("dah", "pause", by="U1", at=datetime.now(UTC))
    status, answer = await ingest.call("GET", "/migrations/dah/control")
    assert (status, answer["intent"], answer["by"]) == (200, "pause", "U1")


async def test_the_reporter_over_http(ingest: Ingest) -> None:
    async with Reporter.http("dah", ingest.url, TOKEN) as reporter:
        await reporter.expected({"cass": 3, "mongo": 0})
        await reporter.chunk("cass", "token:a", 2, checksum="c1")
        await reporter.chunk("cass", "token:b", 1, status="failed")
        assert await reporter.done_chunks("cass") == {"token:a"}
        assert not await reporter.paused()
        await ingest.ledger.set_intent("dah", "pause", by="U1", at=datetime.now(UTC))
        assert await reporter.paused()
        await reporter.chunk("cass", "token:b", 1)
        await reporter.validated("cass", 3, {"token:a": "c1"})
        await reporter.validated("mongo", 0, {})
    progress = await ingest.ledger.progress("dah", now=datetime.now(UTC))
    assert (progress.state, progress.rows, progress.valid) == ("done", 3, True)


async def test_the_reporter_does_not_retry_a_refusal(ingest: Ingest) -> None:
    async with Reporter.http("dah", ingest.url, "not-the-token") as reporter:
        with pytest.raises(IngestRefused) as refused:
            await reporter.chunk("cass", "token:a", 2)
    assert refused.value.status == 401
    assert "not-the-token" not in str(refused.value)


async def test_the_reporter_retries_when_the_bot_is_briefly_unavailable(tmp_path: Path) -> None:
    calls: list[int] = []

    async def flaky(request: web.Request) -> web.Response:
        calls.append(1)
        if len(calls) < 3:
            return web.json_response({"error": "starting"}, status=503)
        return web.json_response({"stored": True})

    runner, url = await serve([web.post("/migrations/{name}/chunks", flaky)])
    transport = HttpTransport(url, TOKEN, backoff_s=0.01)
    try:
        await Reporter("dah", transport).chunk("cass", "token:a", 2)
    finally:
        await transport.close()
        await runner.cleanup()
    assert len(calls) == 3


def test_an_empty_token_is_refused_when_mounting(tmp_path: Path) -> None:
    ledger = Ledger.on(SqlState(f"sqlite+aiosqlite:///{tmp_path / 's.db'}"), [SPEC])
    with pytest.raises(ValueError, match="empty"):
        migration_routes(ledger, SecretStr("  "))


# --- `amd-bot migration report` (a subprocess, as a shell script or a copy job would run it) ----------


async def amd_bot(home: Path, *args: str, extra_env: dict[str, str] | None = None) -> tuple[int, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("AMD_", "SLACK_"))}
    env = {
        **keep,
        "AMD_HOME": str(home),
        "AMD_MIGRATIONS": json.dumps([SPEC.model_dump()]),
        **(extra_env or {}),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "from bot.cli import main; main()", *args,
        env=env, cwd=home, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await asyncio.wait_for(proc.communicate(), timeout=60)
    return int(proc.returncode or 0), output.decode()


REPORT = (
    "migration",
    "report",
    "--name",
    "dah",
    "--source",
    "cass",
    "--chunk",
    "token:(0,10]",
    "--rows",
    "42",
)


async def test_the_cli_reports_into_the_state_store_directly(tmp_path: Path) -> None:
    code, output = await amd_bot(tmp_path, *REPORT, "--checksum", "abc")
    assert code == 0, output
    assert "reported dah cass token:(0,10]: 42 rows (ok)" in output
    state = SqlState(f"sqlite+aiosqlite:///{tmp_path / 'state.db'}")
    progress = await Ledger.on(state, [SPEC]).progress("dah", now=datetime.now(UTC))
    await state.close()
    assert progress.rows == 42

    code, output = await amd_bot(tmp_path, *REPORT[:5], "oracle", *REPORT[6:])
    assert code == 1
    assert "dah has no source oracle" in output


async def test_the_cli_reports_over_http_with_a_token_from_the_environment(
    ingest: Ingest, tmp_path: Path
) -> None:
    code, output = await amd_bot(
        tmp_path, *REPORT, "--url", ingest.url, "--token-env", "INGEST", extra_env={"INGEST": TOKEN}
    )
    assert code == 0, output
    assert (await ingest.ledger.progress("dah", now=datetime.now(UTC))).rows == 42

    code, output = await amd_bot(
        tmp_path, *REPORT, "--url", ingest.url, "--token-env", "INGEST", extra_env={"INGEST": "nope-123"}
    )
    assert code == 1
    assert "ingest refused the request (401)" in output
    assert "nope-123" not in output
    code, output = await amd_bot(tmp_path, *REPORT, "--url", ingest.url, "--token-env", "UNSET_VARIABLE")
    assert code == 1
    assert "environment variable UNSET_VARIABLE is not set" in output
