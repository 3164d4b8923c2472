"""`amd-bot migration report …`: the ledger from a shell or a copy job.

It talks to the ledger over the bot's ingest API (`--url URL --token-env VAR`) or, without `--url`,
straight into the configured state store (the embedded default).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable
from typing import Any

from bot.foundation import arguments
from bot.foundation.settings import Settings
from bot.migration.client import IngestRefused
from bot.migration.ledger import Reporter, UnknownMigration, UnknownSource

Subparsers = Any  # argparse's _SubParsersAction is private; its add_parser is all that is used
Handler = Callable[[argparse.Namespace, Settings], int]


def add_migration_commands(subparsers: Subparsers) -> None:
    """Add `migration report`."""
    migration = subparsers.add_parser("migration", help="report to the migration progress ledger")
    steps = migration.add_subparsers(dest="migration_cmd", required=True)
    report = steps.add_parser("report", help="report one copied chunk (idempotent per chunk id)")
    report.add_argument("--name", required=True, help="the migration, as declared in settings")
    report.add_argument("--source", required=True)
    report.add_argument("--chunk", required=True, help="chunk id: token range, ObjectId range, partition…")
    report.add_argument("--rows", required=True, type=arguments.count)
    report.add_argument("--bytes", type=arguments.count, default=0)
    report.add_argument("--checksum")
    report.add_argument("--status", choices=("ok", "failed"), default="ok")
    transport_args(report)
    report.set_defaults(migration_handler=report_chunk)


def transport_args(parser: argparse.ArgumentParser) -> None:
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

    return run_cli(
        main(), f"reported {args.name} {args.source} {args.chunk}: {args.rows:,} rows ({args.status})"
    )


def run_cli(work: Any, done: str | None = None) -> int:
    try:
        code = asyncio.run(work)
    except (IngestRefused, UnknownMigration, UnknownSource) as exc:
        print(f"amd-bot: {exc}", file=sys.stderr)
        return 1
    if done:
        print(done)
    return int(code or 0)
