"""`amd-bot migration report …` and `amd-bot demo migrate …`: the ledger from a shell or a copy job.

Both talk to the ledger over the bot's ingest API (`--url URL --token-env VAR`) or, without `--url`,
straight into the configured state store (the embedded default).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable
from typing import Any

from bot.migration_client import IngestRefused
from bot.migrations import Reporter, UnknownMigration, UnknownSource
from bot.settings import Settings

Subparsers = Any  # argparse's _SubParsersAction is private; its add_parser is all that is used
Handler = Callable[[argparse.Namespace, Settings], int]
DEMO = "delivery_address_history"


def add_migration_commands(subparsers: Subparsers, *, demo: Subparsers | None = None) -> None:
    """Add `migration report` and `demo migrate`. `demo` is the `demo` command's own subparsers
    when the caller already has one (argparse refuses a second `demo`)."""
    migration = subparsers.add_parser("migration", help="report to the migration progress ledger")
    steps = migration.add_subparsers(dest="migration_cmd", required=True)
    report = steps.add_parser("report", help="report one copied chunk (idempotent per chunk id)")
    report.add_argument("--name", required=True, help="the migration, as declared in settings")
    report.add_argument("--source", required=True)
    report.add_argument("--chunk", required=True, help="chunk id: token range, ObjectId range, partition…")
    report.add_argument("--rows", required=True, type=int)
    report.add_argument("--bytes", type=int, default=0)
    report.add_argument("--checksum")
    report.add_argument("--status", choices=("ok", "failed"), default="ok")
    _transport(report)
    report.set_defaults(migration_handler=report_chunk)

    if demo is None:
        demo = subparsers.add_parser("demo", help="the embedded demo world").add_subparsers(
            dest="demo_cmd", required=True
        )
    migrate = demo.add_parser("migrate", help=f"run the demo migration {DEMO} (resumable)")
    migrate.add_argument("--rate", type=float, metavar="ROWS_PER_S", help="cap throughput to watch the card")
    migrate.add_argument("--fail-after", type=int, metavar="N", help="fail after N chunks (exit 3)")
    _transport(migrate)
    migrate.set_defaults(migration_handler=demo_migrate)


def _transport(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", help="the bot's base URL (ingest API); default: the state store directly")
    parser.add_argument("--token-env", metavar="VAR", help="environment variable holding the bearer token")


async def open_reporter(args: argparse.Namespace, settings: Settings, name: str) -> Reporter:
    if args.url is None:
        return await Reporter.direct(name, settings.state_dsn, settings.migrations)
    if not args.token_env:
        raise SystemExit("amd-bot: --url needs --token-env VAR (the variable holding the ingest token)")
    # The CLI is an entry point: reading the one variable the user named is its job, not a setting's.
    token = os.environ.get(args.token_env, "")
    if not token:
        raise SystemExit(f"amd-bot: environment variable {args.token_env} is not set")
    return Reporter.http(name, args.url, token)


def report_chunk(args: argparse.Namespace, settings: Settings) -> int:
    async def main() -> None:
        async with await open_reporter(args, settings, args.name) as ledger:
            await ledger.chunk(
                args.source,
                args.chunk,
                args.rows,
                bytes=args.bytes,
                checksum=args.checksum,
                status=args.status,
            )

    return _run(
        main(), f"reported {args.name} {args.source} {args.chunk}: {args.rows:,} rows ({args.status})"
    )


def demo_migrate(args: argparse.Namespace, settings: Settings) -> int:
    from bot.runtime import prepare_demo
    from demo.migration.job import SimulatedFailure, migrate

    spec = next((m for m in settings.migrations if m.name == DEMO), None)
    if spec is None:
        raise SystemExit(f"amd-bot: the demo migration {DEMO} is not declared in the settings' migrations")

    def say(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    async def main() -> int:
        await prepare_demo(settings)  # the table lands in the current world, not one about to be rebuilt
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

    return _run(main())


def _run(work: Any, done: str | None = None) -> int:
    try:
        code = asyncio.run(work)
    except (IngestRefused, UnknownMigration, UnknownSource) as exc:
        print(f"amd-bot: {exc}", file=sys.stderr)
        return 1
    if done:
        print(done, file=sys.stderr)
    return int(code or 0)
