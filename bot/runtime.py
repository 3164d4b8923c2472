"""Starting amd-bot in each mode: the console, Socket Mode, or HTTP. One sequence for all of them:
settings → (demo world) → backends → router → mode."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import sys
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any

from bot.core.backends import Backends
from bot.core.router import Router
from bot.foundation.entity_selection import EntitySelectorError
from bot.foundation.errors import ProjectError
from bot.foundation.settings import Settings
from bot.surfaces.console import Console
from bot.wiring import build_backends

log = logging.getLogger(__name__)
_CANCEL_WAIT_S = 15.0  # after cancelling: dbt gets 10 s to stop (dbt_process.py), its card a moment more


def progress(step: str, fraction: float) -> None:
    width = 30
    filled = int(width * max(0.0, min(1.0, fraction)))
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {fraction:4.0%} {step:<48}")
    if fraction >= 1.0:
        sys.stderr.write("\n")
    sys.stderr.flush()


async def prepare_demo(settings: Settings) -> None:
    """The embedded default builds its demo world on first start (later starts reuse it)."""
    if not settings.uses_demo_project or settings.warehouse != "duckdb" or settings.duckdb_path is not None:
        return
    from demo.world import ensure_demo

    await ensure_demo(settings, progress=progress)


@asynccontextmanager
async def started(settings: Settings) -> AsyncIterator[tuple[Backends, Router]]:
    import commands

    await prepare_demo(settings)
    try:
        backends = await build_backends(settings, progress=progress)
    except (ProjectError, EntitySelectorError) as exc:
        # A configuration problem with the team's project: the message says what to change.
        raise SystemExit(f"amd-bot: {exc}") from None
    try:
        yield backends, Router(commands.COMMANDS, backends, prefix=settings.command)
    finally:
        await backends.close()


async def console(settings: Settings, texts: list[str], *, wait_s: float, user: str, channel: str) -> None:
    import commands

    async with started(settings) as (_backends, router):
        shell = Console(router, commands.COMMANDS, user=user, channel=channel)
        if not texts:
            await shell.repl()
            return
        for text in texts:
            await shell.execute(text)
            if wait_s > 0:
                await shell.follow(wait_s)


async def serve(settings: Settings, *, http: bool, host: str, port: int) -> None:
    import commands
    from bot.surfaces.bolt import create_app
    from bot.surfaces.serve import serve_http, serve_socket_mode
    from bot.surfaces.slack import slack_session

    async with started(settings) as (backends, router), slack_session(settings) as session:
        app = create_app(settings, backends, router, session)
        freeze_startup_heap()
        terminated = asyncio.Event()
        # Kubernetes (and any supervisor) asks a process to stop with SIGTERM, then kills it after its
        # grace period: drain in between instead of dying with runs half done.
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, terminated.set)

        async def drained() -> None:
            await drain(backends, settings.shutdown_grace_s)

        if http:

            async def until() -> None:
                await terminated.wait()
                await drained()

            await serve_http(app, router, commands.COMMANDS, host=host, port=port, until=until)
        else:
            await serve_socket_mode(app, backends, commands.COMMANDS, stopped=terminated.wait, drain=drained)


async def drain(backends: Backends, grace_s: float) -> None:
    """Stop taking work, give what is running `grace_s` to finish, then cancel it and wait (bounded)
    for the cancels to land, so its cards and rows end as cancelled, not "running" forever."""
    leases = backends.leases
    leases.stopping = True
    if await leases.settled(grace_s):
        return
    log.warning("stopping: cancelling %d run(s) still going after %.0f s", leases.held, grace_s)
    await leases.cancel_all()
    if not await leases.settled(_CANCEL_WAIT_S):
        log.warning("stopping with %d run(s) not stopped; another replica will mark them lost", leases.held)


def freeze_startup_heap() -> None:
    """Keep garbage collection out of Slack's ack path (measured with bench/ack_latency.py).

    Everything loaded at start (dbt, SQLAlchemy, the manifest, …) is frozen out of the collector's
    reach: without it, full collections scanned that heap and paused the event loop ~100 ms. Frozen,
    CPython's "25 % new long-lived objects" guard no longer delays full collections, so one ran every
    ten middle passes (~1,000 commands) and paused ~38 ms over the commands parked on a slow backend;
    at every hundred (~10,000 commands) the same pause touches well under 1 % of acks. Cyclic garbage
    lives a little longer, which is all it costs."""
    gc.collect()
    gc.freeze()
    young, middle, _full = gc.get_threshold()
    gc.set_threshold(young, middle, 100)


def run(main: Coroutine[Any, Any, None]) -> None:
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main)
