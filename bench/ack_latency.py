"""How fast does amd-bot ack a slash command while its warehouse is slow?

N correctly signed `/amd stats` posts at concurrency C against three servers, each in its own
process, measured by the same client in the same run:
  bot   – amd-bot's HTTP mode (router, RBAC, audit) with a warehouse that takes 5 s per query
  bolt  – a minimal Bolt AsyncApp whose listener only acks (what Bolt itself costs)
  bare  – a bare aiohttp handler answering 200 (the floor)
Prints p50/p99 per server and the ratios. Target: bot p99 ≤ 1.5× bolt p99; every ack < 3 s.

    .venv/bin/python bench/ack_latency.py [--requests 1000] [--concurrency 50]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.slack_fake.web_api import FakeSlack  # noqa: E402
from tests.support.bot import BOT_TOKEN, SIGNING_SECRET, sign  # noqa: E402
from tests.support.demo import isolated_settings  # noqa: E402

SLOW_S = 5.0
MODES = ("bare", "bolt", "bot")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- the servers under test (run in a child process: `--serve MODE`) ------------------------------


async def serve_slack(payloads: int) -> None:
    """FakeSlack in a process of its own, so answering the bot's bursts of response_url posts never
    stalls the load generator. Prints its API URL, then `payloads` ready-made slash-command bodies."""
    async with FakeSlack() as slack:
        print(slack.api_url, flush=True)
        for i in range(payloads):
            payload = slack.slash_command_payload("stats", user_id=f"U{i % 50:04d}")
            print(urllib.parse.urlencode(payload), flush=True)
        await asyncio.Event().wait()


async def serve(mode: str, port: int, api_url: str, home: Path) -> None:
    from aiohttp import web

    if mode == "bare":

        async def ok(_request: web.Request) -> web.Response:
            return web.Response(text="")

        app = web.Application()
        app.add_routes([web.post("/slack/events", ok)])
    elif mode == "bolt":
        from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
        from slack_bolt.async_app import AsyncAck, AsyncApp
        from slack_sdk.web.async_client import AsyncWebClient

        bolt = AsyncApp(
            client=AsyncWebClient(token=BOT_TOKEN, base_url=api_url), signing_secret=SIGNING_SECRET
        )

        async def ack(ack: AsyncAck) -> None:
            await ack()

        bolt.command("/amd")(ack)

        async def events(request: web.Request) -> web.Response:
            return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

        app = web.Application()
        app.add_routes([web.post("/slack/events", events)])
    else:
        import commands
        from bot.core.router import Router
        from bot.surfaces.bolt import create_app
        from bot.surfaces.serve import http_app
        from bot.wiring import build_backends, build_warehouse
        from tests.support.slow import SlowWarehouse

        settings = isolated_settings(
            home, slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET, slack_api_url=api_url
        )
        backends = await build_backends(settings, warehouse=SlowWarehouse(build_warehouse(settings), SLOW_S))
        router = Router(commands.COMMANDS, backends)
        session = aiohttp.ClientSession()  # lives as long as this server process
        app = http_app(create_app(settings, backends, router, session), backends)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    if mode == "bot":
        from bot.runtime import freeze_startup_heap

        freeze_startup_heap()  # as `amd-bot serve` does once it is ready
    print("ready", flush=True)
    await asyncio.Event().wait()


# --- the client -----------------------------------------------------------------------------------


async def hammer(url: str, bodies: list[bytes], concurrency: int) -> list[float]:
    """Seconds from sending each request to its HTTP answer (the ack)."""
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

        async def one(body: bytes) -> None:
            async with gate:
                started = time.perf_counter()
                async with session.post(url, data=body, headers=sign(body)) as resp:
                    await resp.read()
                    assert resp.status == 200, resp.status
                latencies.append(time.perf_counter() - started)

        await asyncio.gather(*(one(body) for body in bodies))
    return latencies


def take(bodies: list[bytes], n: int) -> list[bytes]:
    taken = bodies[:n]
    del bodies[:n]
    return taken


def pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100)[int(p) - 1] if len(values) > 1 else values[0]


@contextlib.asynccontextmanager
async def server(mode: str, home: Path, api_url: str) -> AsyncIterator[str]:
    port = free_port()
    argv = [
        sys.executable,
        __file__,
        "--serve",
        mode,
        "--port",
        str(port),
        "--api-url",
        api_url,
        "--home",
        str(home),
    ]
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, cwd=ROOT)
    try:
        assert child.stdout is not None
        line = await asyncio.to_thread(child.stdout.readline)
        assert line.strip() == b"ready", f"{mode} server did not start"
        yield f"http://127.0.0.1:{port}/slack/events"
    finally:
        child.terminate()
        child.wait(timeout=10)


async def main(requests: int, concurrency: int, rounds: int) -> None:
    from demo.world import ensure_demo

    home = Path(tempfile.mkdtemp(prefix="amd-bench-"))
    await ensure_demo(isolated_settings(home))
    warm_up = min(50, requests)
    per_round = requests // rounds
    needed = len(MODES) * (warm_up + per_round * rounds)
    results: dict[str, list[float]] = {mode: [] for mode in MODES}
    slack = subprocess.Popen(
        [sys.executable, __file__, "--serve", "slack", "--requests", str(needed)],
        stdout=subprocess.PIPE,
        cwd=ROOT,
    )
    try:
        assert slack.stdout is not None
        api_url = (await asyncio.to_thread(slack.stdout.readline)).decode().strip()
        bodies = [(await asyncio.to_thread(slack.stdout.readline)).strip() for _ in range(needed)]
        async with contextlib.AsyncExitStack() as stack:
            urls = {mode: await stack.enter_async_context(server(mode, home, api_url)) for mode in MODES}
            for mode in MODES:
                await hammer(urls[mode], take(bodies, warm_up), concurrency)  # auth.test, caches
            # Interleaved rounds: on a shared, noisy machine a burst of load then hits all three alike.
            # The client's own garbage collector is off while timing (as timeit does): its pauses would
            # be charged to whichever server happened to be measured.
            gc.collect()
            gc.disable()
            for round_ in range(rounds):
                for mode in MODES[round_ % 3 :] + MODES[: round_ % 3]:
                    results[mode] += await hammer(urls[mode], take(bodies, per_round), concurrency)
            gc.enable()
    finally:
        slack.terminate()
        slack.wait(timeout=10)
    print(
        f"\n{requests} signed /amd stats per server, concurrency {concurrency}, {rounds} interleaved rounds;"
    )
    print(f"the bot's warehouse takes {SLOW_S:g} s per query\n")
    print(f"{'server':<6} {'n':>5} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for name, values in results.items():
        print(
            f"{name:<6} {len(values):5d} {pct(values, 50) * 1000:8.1f} {pct(values, 99) * 1000:8.1f}"
            f" {max(values) * 1000:8.1f}"
        )
    bot, bolt, bare = (pct(results[m], 99) for m in ("bot", "bolt", "bare"))
    print(f"\np99 ratio bot/bolt = {bot / bolt:.2f} (target ≤ 1.5) · bot/bare = {bot / bare:.2f}")
    slowest = max(results["bot"])
    print(f"every ack under 3 s: {slowest < 3.0} (slowest {slowest * 1000:.0f} ms)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--serve", choices=("slack", "bare", "bolt", "bot"))
    parser.add_argument("--port", type=int)
    parser.add_argument("--api-url")
    parser.add_argument("--home", type=Path)
    args = parser.parse_args()
    if args.serve == "slack":
        asyncio.run(serve_slack(args.requests))
    elif args.serve:
        asyncio.run(serve(args.serve, args.port, args.api_url, args.home))
    else:
        asyncio.run(main(args.requests, args.concurrency, args.rounds))
