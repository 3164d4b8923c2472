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

from prompt_toolkit.patch_stdout import patch_stdout

from bot.core.backends import Backends
from bot.core.router import Router
from bot.foundation.catalog import Catalog
from bot.foundation.entity_selection import EntitySelectorError
from bot.foundation.errors import ProjectError
from bot.foundation.inflight import settled
from bot.foundation.settings import Settings
from bot.surfaces.console import Console
from bot.wiring import build_backends

log = logging.getLogger(__name__)
_CANCEL_WAIT_S = 15.0  # after cancelling: dbt gets 10 s to stop (dbt_process.py), its card a moment more


# The console's cards are one person's and mostly local: refresh them about as fast as they change.
CONSOLE_REFRESH_S = 1.0
LOG_FILE = "amd-bot.log"  # under AMD_HOME: where the console's log goes instead of between its answers


class ProgressBar:
    """Drawn on stderr only once a build is under way: a world that is already current says nothing,
    so a one-shot command's answer is all it prints."""

    def __init__(self) -> None:
        self.drawing = False

    def __call__(self, step: str, fraction: float) -> None:
        if fraction >= 1.0 and not self.drawing:
            return
        self.drawing = True
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

    await ensure_demo(settings, progress=ProgressBar())


def unmapped_owners(catalog: Catalog) -> list[str]:
    """dbt owners with no Slack id in `owners`: they are named as text, never mentioned."""
    return sorted({e.owner for e in catalog.entities.values() if e.owner and e.owner not in catalog.owners})


@asynccontextmanager
async def started(settings: Settings) -> AsyncIterator[tuple[Backends, Router]]:
    import commands

    await prepare_demo(settings)
    try:
        backends = await build_backends(settings, progress=ProgressBar())
    except (ProjectError, EntitySelectorError) as exc:
        # A configuration problem with the team's project: the message says what to change.
        raise SystemExit(f"amd-bot: {exc}") from None
    if missing := unmapped_owners(backends.catalog):
        log.warning("dbt owners without a Slack id in `owners` are named as text: %s", ", ".join(missing))
    try:
        yield backends, Router(commands.COMMANDS, backends, prefix=settings.command)
    finally:
        await backends.close()


async def console(
    settings: Settings, texts: list[str], *, wait_s: float, user: str, channel: str, quiet: bool = False
) -> None:
    import commands
    from bot.surfaces import terminal

    async with started(settings) as (backends, router):
        render = terminal.renderer()
        shell = Console(router, commands.COMMANDS, user=user, channel=channel, render=render, quiet=quiet)
        if texts:
            for text in texts:
                await shell.execute(text)
                if wait_s > 0:
                    await shell.follow(wait_s, interval_s=CONSOLE_REFRESH_S)
            return
        if not sys.stdin.isatty():
            await terminal.read_piped(shell, sys.stdin)
            return
        shell.surface.write(f"Log: {settings.home / LOG_FILE} (`amd-bot -v console` shows it here too)\n")
        if missing := unmapped_owners(backends.catalog):
            names = ", ".join(missing)
            shell.surface.write(
                "Note: these dbt owners have no Slack id in `owners`, "
                f"so they are named, not mentioned: {names}.\n"
            )
        with patch_stdout(raw=True):  # answers and card changes print above the prompt, not through it
            await terminal.repl(
                shell, history=settings.home / "console_history", interval_s=CONSOLE_REFRESH_S
            )


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
    """Stop taking work, give what is running `grace_s` to finish (runs, and the answers to Slack
    requests already acked, with their audit records), then cancel the runs and wait (bounded) for the
    cancels to land, so their cards and rows end as cancelled, not "running" forever."""
    leases, answering = backends.leases, backends.answering
    leases.stopping = True
    if await settled(grace_s, leases.work, answering):
        return
    log.warning("stopping: cancelling %d run(s) still going after %.0f s", leases.held, grace_s)
    await leases.cancel_all()
    if not await settled(_CANCEL_WAIT_S, leases.work, answering):
        unfinished = (
            "stopping with %d run(s) and %d Slack request(s) unfinished; another replica marks lost runs"
        )
        log.warning(unfinished, leases.held, answering.count)


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
