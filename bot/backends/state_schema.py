"""The state store's tables and their ordered schema migrations.

Each feature adds its tables here together with a new `Migration` (next version number). A migration
only ever adds; released migrations are never edited, so every replica converges on the same schema.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Connection,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out: SQLite stores naive datetimes, PostgreSQL timestamptz."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to the state store; use datetime.now(UTC)")
        return None if value is None else value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()

schema_version = Table(
    "amd_schema_version",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("description", String(200), nullable=False),
    Column("applied_at", UtcDateTime(), nullable=False),
)

audit_log = Table(
    "amd_audit_log",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("at", UtcDateTime(), nullable=False, index=True),
    Column("user_id", String(64), nullable=False),
    Column("channel_id", String(64), nullable=False),
    Column("command", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("outcome", String(32), nullable=False),  # ok | usage | denied | error | action
    Column("duration_ms", Integer, nullable=False),
    Column("detail", JSON, nullable=False),
)

# Slack retries events it thinks were lost; Bolt does not drop them, so we remember what we handled.
processed_events = Table(
    "amd_processed_events",
    metadata,
    Column("event_id", String(128), primary_key=True),
    Column("at", UtcDateTime(), nullable=False, index=True),
)

# A claim is a unique key inserted before a once-only effect (a digest window, an alert):
# whichever replica inserts it first does the work, the others see the conflict and skip.
claims = Table(
    "amd_claims",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("holder", String(128), nullable=False),
)

# Cards that keep changing after they were posted (a run in progress, a migration): a scheduler tick
# re-renders the unsettled ones, so they keep updating across restarts and on whichever replica ticks.
live_cards = Table(
    "amd_live_cards",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("kind", String(64), nullable=False),  # the command that renders it
    Column("key", String(255), nullable=False),  # what it shows, in that command's terms
    Column("channel", String(64), nullable=False),
    Column("ts", String(64), nullable=False),
    Column("requester", String(64), nullable=False),
    Column("memo", JSON, nullable=False),  # the command's own memory between ticks
    Column("fingerprint", String(64), nullable=False),  # of the last posted render: skip no-op updates
    Column("settled", Boolean, nullable=False, index=True),
    # Compare-and-set guard: of two replicas refreshing the same card, only one posts the change.
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: Callable[[Connection], None]


def _create(*tables: Table) -> Callable[[Connection], None]:
    def apply(conn: Connection) -> None:
        for table in tables:
            table.create(conn, checkfirst=True)

    return apply


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "audit log, processed events, claims, live cards",
        _create(audit_log, processed_events, claims, live_cards),
    ),
)
