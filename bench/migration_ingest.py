"""How fast can copy jobs report to the migration ledger, and what does that cost in Slack?

1. Ingest: N chunk reports sent over real HTTP (aiohttp client → the bot's `/migrations/{name}/chunks`
   on 127.0.0.1 → ledger upsert) at a given concurrency, on SQLite and on PostgreSQL (a scratch
   database, when the server answers). Baselines measured in the same run: the same N reports
   straight into the ledger (no HTTP), and an HTTP endpoint that stores nothing (HTTP alone).
2. Card updates: a reporter paced at 1,000 reports/s for a fixed time while the live-card tick runs
   every second (5x more often than the default poll interval); chat.update calls are counted where
   they land, at FakeSlack (which enforces Tier 3, ~50/min). Printed per minute against that budget.

    .venv/bin/python bench/migration_ingest.py [--reports 5000] [--concurrency 16] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import asyncpg
from aiohttp import web
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.core import cards
from bot.foundation.migration_specs import MigrationSpec, SourceSpec
from bot.foundation.settings import Settings
from bot.migration.client import ChunkReport
from bot.migration.ingest import migration_routes
from bot.migration.ledger import Ledger
from bot.state.store import SqlState
from bot.surfaces.slack import SlackSurface, web_client
from commands import migration
from commands.migration.views import card
from tests.slack_fake.web_api import FakeSlack

TOKEN = "bench-ingest-token"
PG_ADMIN = os.environ.get("AMD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
SPEC = MigrationSpec(
    name="bench",
    target="amd.bench",
    sources=[SourceSpec(name=f"s{i}", kind="file", expected_rows=10**9) for i in range(4)],
)


def report(i: int) -> ChunkReport:
    return ChunkReport(source=f"s{i % 4}", chunk=f"c{i:09d}", rows=1_000, bytes=65_536, checksum=f"{i:016x}")


@asynccontextmanager
async def state_store(kind: str, home: Path) -> AsyncIterator[SqlState | None]:
    if kind == "sqlite":
        state = SqlState(f"sqlite+aiosqlite:///{home / f'{uuid.uuid4().hex}.db'}")
        await state.migrate()
        yield state
        await state.close()
        return
    name = f"amd_bench_{uuid.uuid4().hex[:8]}"
    try:
        admin = await asyncpg.connect(PG_ADMIN, timeout=3)
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"(PostgreSQL not reachable at {PG_ADMIN}: {type(exc).__name__}; skipped)")
        yield None
        return
    await admin.execute(f'CREATE DATABASE "{name}"')
    state = SqlState(
        PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{name}"
    )
    try:
        await state.migrate()
        yield state
    finally:
        await state.close()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@asynccontextmanager
async def serving(routes: list[web.RouteDef]) -> AsyncIterator[str]:
    app = web.Application()
    app.add_routes(routes)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


async def blast(url: str, n: int, concurrency: int, first: int = 0) -> float:
    """Seconds to POST n reports with `concurrency` in flight; every one must be accepted."""
    gate = asyncio.Semaphore(concurrency)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

        async def one(i: int) -> None:
            async with gate, session.post(url, json=report(i).model_dump(), headers=headers) as resp:
                assert resp.status == 200, await resp.text()

        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(first, first + n)))
        return time.perf_counter() - started


async def direct(ledger: Ledger, n: int, concurrency: int) -> float:
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with gate:
            await ledger.report(SPEC.name, report(i), at=datetime.now(UTC))

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    return time.perf_counter() - started


@dataclass
class Row:
    path: str
    seconds: float
    reports: int

    @property
    def rate(self) -> float:
        return self.reports / self.seconds


async def ingest(kind: str, home: Path, n: int, concurrency: int) -> list[Row]:
    async with state_store(kind, home) as state:
        if state is None:
            return []
        ledger = Ledger.on(state, [SPEC])
        rows = [Row(f"direct ledger ({kind})", await direct(ledger, n, concurrency), n)]
        async with serving(migration_routes(Ledger.on(state, [SPEC]), SecretStr(TOKEN))) as base:
            url = f"{base}/migrations/bench/chunks"
            rows.append(Row(f"HTTP ingest ({kind})", await blast(url, n, concurrency, first=n), n))
        stored = (await ledger.progress(SPEC.name, now=datetime.now(UTC))).sources
        assert sum(s.chunks_ok for s in stored) == 2 * n
        return rows


async def http_alone(n: int, concurrency: int) -> Row:
    async def nothing(request: web.Request) -> web.Response:
        ChunkReport.model_validate_json(await request.read())
        return web.json_response({"stored": False})

    async with serving([web.post("/migrations/{name}/chunks", nothing)]) as base:
        return Row("HTTP, nothing stored", await blast(f"{base}/migrations/bench/chunks", n, concurrency), n)


async def card_updates(home: Path, seconds: float, per_s: int, tick_s: float) -> dict[str, float]:
    """Reports paced at `per_s` over HTTP (many in flight, as from many copy jobs) for `seconds`, while
    the live-card job ticks every `tick_s`; chat.update calls are counted where they land, at FakeSlack."""
    async with FakeSlack() as slack, state_store("sqlite", home) as state:
        assert state is not None
        settings = Settings(
            _env_file=None,
            home=home,
            migrations=[SPEC],
            slack_bot_token=SecretStr("xoxb-bench"),
            slack_signing_secret=SecretStr("bench-signing"),
            slack_api_url=slack.api_url,
        )
        backends = Bench(settings, state)
        surface = SlackSurface(web_client(settings), channel="C1")
        ledger = Ledger.on(state, [SPEC])
        first = card(await ledger.progress(SPEC.name, now=datetime.now(UTC)), SPEC, [], {})
        await cards.follow(backends, surface, kind="migration", key=SPEC.name, message=first, requester="U1")  # type: ignore[arg-type]
        kinds = {"migration": migration.refresh}
        sent = 0
        started = time.monotonic()
        stop = started + seconds

        async def reporter(url: str) -> None:
            nonlocal sent
            headers = {"Authorization": f"Bearer {TOKEN}"}
            in_flight: set[asyncio.Task[None]] = set()
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)) as session:

                async def one(i: int) -> None:
                    async with session.post(url, json=report(i).model_dump(), headers=headers) as resp:
                        assert resp.status == 200, await resp.text()

                while time.monotonic() < stop:
                    due = int((time.monotonic() - started) * per_s)
                    while sent < due and len(in_flight) < 256:
                        task = asyncio.create_task(one(sent))
                        in_flight.add(task)
                        task.add_done_callback(in_flight.discard)
                        sent += 1
                    await asyncio.sleep(0.002)
                await asyncio.gather(*in_flight)

        async def ticker() -> int:
            ticks = 0
            while time.monotonic() < stop:
                await cards.tick(backends, surface, kinds)  # type: ignore[arg-type]
                ticks += 1
                await asyncio.sleep(tick_s)
            return ticks

        async with serving(migration_routes(ledger, SecretStr(TOKEN))) as base:
            _, ticks = await asyncio.gather(reporter(f"{base}/migrations/bench/chunks"), ticker())
        elapsed = time.monotonic() - started
        return {
            "sent": sent,
            "seconds": elapsed,
            "ticks": ticks,
            "updates": len(slack.calls_to("chat.update")),
            "refused": len(slack.calls_to("chat.update", ok=False)),
        }


@dataclass
class Bench:
    """What the live-card tick and the migration refresh use of Backends; the rest (warehouse, dbt,
    catalog) has no part in this measurement and would need the demo world built."""

    settings: Settings
    state: SqlState


async def main(n: int, concurrency: int, seconds: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        rows = [await http_alone(n, concurrency)]
        for kind in ("sqlite", "postgresql"):
            rows += await ingest(kind, home, n, concurrency)
        baseline = next(r for r in rows if r.path == "direct ledger (sqlite)")
        print(f"\n{n:,} chunk reports, {concurrency} in flight\n")
        print(f"{'ingest path':<26} {'seconds':>8} {'reports/s':>10} {'vs direct SQLite':>17}")
        for row in rows:
            print(f"{row.path:<26} {row.seconds:>8.2f} {row.rate:>10,.0f} {row.rate / baseline.rate:>16.2f}x")

        tick_s = 1.0
        got = await card_updates(home, seconds, 1_000, tick_s)
        per_min = got["updates"] / got["seconds"] * 60
        rate = got["sent"] / got["seconds"]
        print(f"\nlive card under {rate:,.0f} reports/s over HTTP for {got['seconds']:.0f} s")
        print(f"  tick every {tick_s:g} s ({got['ticks']:.0f} ticks; the default poll interval is 5 s)")
        print(
            f"  chat.update calls {got['updates']:.0f}, refused by FakeSlack's Tier 3: {got['refused']:.0f}"
        )
        print(
            f"  updates/min {per_min:.1f} · Tier 3 budget 50/min · ratio {per_min / 50:.2f} (must stay < 1)"
        )
        print(f"  reports per card update {got['sent'] / max(got['updates'], 1):,.0f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reports", type=int, default=5_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    asyncio.run(main(args.reports, args.concurrency, args.seconds))
