"""`amd-bot db upgrade` and `amd-bot db current`: the state store's schema revision (Alembic), as
the bot itself brings it up to date at start."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from bot.foundation.ports import BackendUnavailable
from bot.foundation.settings import Settings
from bot.state.migrate import SchemaStatus
from bot.state.store import SqlState

Subparsers = Any  # argparse's _SubParsersAction is private; its add_parser is all that is used


def add_db_commands(subparsers: Subparsers) -> None:
    db = subparsers.add_parser("db", help="the state store's schema (Alembic revisions)")
    steps = db.add_subparsers(dest="db_cmd", required=True)
    upgrade = steps.add_parser("upgrade", help="bring the schema to this version's head (as a start does)")
    upgrade.set_defaults(migration_handler=db_upgrade)
    current = steps.add_parser("current", help="the schema's revision, and this version's head")
    current.set_defaults(migration_handler=db_current)


def db_upgrade(_args: argparse.Namespace, settings: Settings) -> int:
    async def main(state: SqlState) -> str:
        done = await state.migrate()
        if done.before == done.head:
            return f"already at {done.head} (head)"
        return f"{done.before or 'empty'} → {done.head} (head)"

    return _run(settings, main)


def db_current(_args: argparse.Namespace, settings: Settings) -> int:
    async def main(state: SqlState) -> str:
        return describe(await state.schema_status())

    return _run(settings, main)


def describe(status: SchemaStatus) -> str:
    if status.current == status.head:
        return f"{status.head} (head)"
    if not status.known:
        return f"{status.current}, unknown to this version (head {status.head}): a newer amd-bot migrated it"
    return f"{status.current or 'empty'}; head is {status.head}: `amd-bot db upgrade` brings it there"


def _run(settings: Settings, work: Any) -> int:
    async def main() -> str:
        state = SqlState(settings.state_dsn)
        try:
            said: str = await work(state)
        finally:
            await state.close()
        return f"state store {state.where}: {said}"

    try:
        print(asyncio.run(main()))
    except BackendUnavailable as exc:
        print(f"amd-bot: {exc}", file=sys.stderr)
        return 1
    return 0
