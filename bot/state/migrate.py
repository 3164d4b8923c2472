"""The state store's schema, brought to Alembic's head under a lock, so replicas starting together
migrate once: PostgreSQL's transaction-scoped advisory lock, or, for a SQLite file (one machine),
an exclusive lock on a file beside it.

Stores made by the hand-rolled migrations (the `amd_schema_version` table, versions 1–6) are
stamped with the revision of their last version first (version N is revision "000N"), then go on
from there. Alembic is configured here, in code: no alembic.ini.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from sqlalchemy import Connection, func, inspect, select

from bot.foundation.ports import BackendUnavailable
from bot.state.schema import schema_version

log = logging.getLogger(__name__)
REVISIONS = Path(__file__).with_name("revisions")
VERSION_TABLE = "amd_alembic_version"  # not alembic_version: the database may hold another app's
LOCK_ID = 0x616D64  # any constant; PostgreSQL advisory locks are per database


@dataclass(frozen=True)
class SchemaStatus:
    current: str | None  # None: an empty store (the first start creates the schema)
    head: str  # what this code needs
    known: bool  # False: a newer amd-bot migrated it further than this code knows


def legacy_revision(version: int) -> str:
    """The revision that did what hand-rolled migration `version` did (r000N_*.py ports version N)."""
    return f"{version:04d}"


def config(conn: Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(REVISIONS))
    cfg.attributes["connection"] = conn
    cfg.attributes["version_table"] = VERSION_TABLE
    return cfg


@dataclass(frozen=True)
class Upgraded:
    before: str | None  # None: the store was empty
    head: str


def upgrade(conn: Connection) -> Upgraded:
    """Stamp a hand-rolled store, then upgrade to head. Runs inside the caller's transaction, which
    holds the lock, so `before` is what this caller found, not what a replica was about to change."""
    found = status(conn)
    if not found.known:
        raise BackendUnavailable(
            f"the state store's schema is at revision {found.current}, which this amd-bot does not know "
            f"(its head is {found.head}): a newer version migrated it; run that version or a later one"
        )
    before = found.current
    cfg = config(conn)
    legacy = _legacy_version(conn)
    if legacy is not None and not _has_version_table(conn):
        log.info("state schema: hand-rolled version %d is revision %s", legacy, legacy_revision(legacy))
        command.stamp(cfg, legacy_revision(legacy))
    command.upgrade(cfg, "head")
    return Upgraded(before, head())


def status(conn: Connection) -> SchemaStatus:
    newest = head()
    if _has_version_table(conn):
        context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        current = context.get_current_revision()
    else:
        legacy = _legacy_version(conn)
        current = None if legacy is None else legacy_revision(legacy)
    return SchemaStatus(current, newest, current is None or _known(current))


def _known(revision: str) -> bool:
    try:
        ScriptDirectory(str(REVISIONS)).get_revision(revision)
    except (RevisionError, CommandError):
        return False
    return True


@asynccontextmanager
async def file_lock(database: Path | None) -> AsyncIterator[None]:
    """An exclusive lock beside a SQLite file while its schema is migrated; nothing for other
    databases. Waited for in a thread: the holder may be this very process."""
    if database is None:
        yield
        return
    with (database.parent / f"{database.name}.migrate-lock").open("a") as handle:
        await asyncio.to_thread(fcntl.flock, handle, fcntl.LOCK_EX)
        yield  # closing the file releases the lock


def head() -> str:
    """The newest revision this code has."""
    newest = ScriptDirectory(str(REVISIONS)).get_current_head()
    assert newest is not None, "bot/state/revisions/versions has no revision"
    return newest


def _has_version_table(conn: Connection) -> bool:
    return inspect(conn).has_table(VERSION_TABLE)


def _legacy_version(conn: Connection) -> int | None:
    if not inspect(conn).has_table(schema_version.name):
        return None
    found: int | None = conn.execute(select(func.max(schema_version.c.version))).scalar()
    return found
