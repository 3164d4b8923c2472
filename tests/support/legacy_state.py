"""A state store as the hand-rolled migrations (before Alembic) left it, for upgrade-in-place tests."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import Connection, insert, text

from bot.state import migrate
from bot.state.schema import schema_version

V5_COLUMNS = ("lease_until", "not_before", "retired")


def hand_rolled_store(conn: Connection, version: int) -> None:
    """The store the hand-rolled migrations left at `version`: that schema, recorded in
    amd_schema_version, and no Alembic table."""
    command.upgrade(migrate.config(conn), migrate.legacy_revision(version))
    conn.execute(text(f"DROP TABLE {migrate.VERSION_TABLE}"))
    if version < 5:  # revision 0001 creates live cards as they are today; version 4 had fewer columns
        for column in V5_COLUMNS:
            conn.execute(text(f'ALTER TABLE amd_live_cards DROP COLUMN "{column}"'))
    schema_version.create(conn)
    at = datetime.now(UTC)
    conn.execute(
        insert(schema_version),
        [{"version": v, "description": f"version {v}", "applied_at": at} for v in range(1, version + 1)],
    )
