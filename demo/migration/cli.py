"""`amd-bot demo migrate`: the demo's resumable copy job, reporting to the ledger like a real one."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from bot.foundation import arguments
from bot.foundation.settings import Settings
from bot.migration.cli import open_reporter, run_cli, transport_args
from bot.migration.store import MigrationStore
from bot.runtime import prepare_demo
from bot.state.store import SqlState
from demo.migration.job import SimulatedFailure, migrate
from demo.migration.target import Target

DEMO = "delivery_address_history"


def add_demo_migrate(demo: Any) -> None:
    """`demo` is the `demo` command's own subparsers (argparse refuses a second `demo`)."""
    parser = demo.add_parser("migrate", help=f"run the demo migration {DEMO} (resumable)")
    parser.add_argument(
        "--rate", type=arguments.rate, metavar="ROWS_PER_S", help="cap throughput to watch the card"
    )
    parser.add_argument(
        "--fail-after", type=arguments.positive, metavar="N", help="fail after N chunks (exit 3)"
    )
    parser.add_argument(
        "--reset",
        action="store_true",
        help="first forget the ledger's record of it and drop its target table: start from nothing",
    )
    transport_args(parser)
    parser.set_defaults(migration_handler=demo_migrate)


def demo_migrate(args: argparse.Namespace, settings: Settings) -> int:
    spec = next((m for m in settings.migrations if m.name == DEMO), None)
    if spec is None:
        raise SystemExit(f"amd-bot: the demo migration {DEMO} is not declared in the settings' migrations")

    def say(line: str) -> None:  # the job's progress and result are its output; problems go to stderr
        print(line, file=sys.stderr if line.startswith("amd-bot:") else sys.stdout, flush=True)

    if args.reset and args.url is not None:
        raise SystemExit("amd-bot: --reset works on the state store directly; leave out --url")

    async def main() -> int:
        await prepare_demo(settings)  # the table lands in the current world, not one about to be rebuilt
        if args.reset:
            await reset(settings, spec.target)
            say(f"reset: {DEMO}'s ledger rows and {spec.target} are gone; copying from the start")
        async with await open_reporter(args, settings, DEMO) as ledger:
            try:
                outcome = await migrate(
                    ledger,
                    sources_dir=settings.demo_home / "migration",
                    warehouse=settings.warehouse_path,
                    table=spec.target,
                    rate=args.rate,
                    fail_after=args.fail_after,
                    say=say,
                )
            except SimulatedFailure as exc:
                say(f"amd-bot: {exc}")
                return 3
        say(
            f"copied {outcome.copied} chunks ({outcome.rows:,} rows), {outcome.skipped} already in the ledger"
        )
        if outcome.failed:
            say(f"amd-bot: {len(outcome.failed)} chunk(s) failed: {', '.join(outcome.failed[:5])}")
            return 1
        return 0

    return run_cli(main())


async def reset(settings: Settings, table: str) -> None:
    """So the kill-and-resume demo can be tried again: a resumed job skips what the ledger holds."""
    state = SqlState(settings.state_dsn)
    try:
        await state.migrate()
        await MigrationStore(state.engine).forget(DEMO)
    finally:
        await state.close()
    await asyncio.to_thread(Target(settings.warehouse_path, table).drop)
