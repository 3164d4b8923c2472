"""The state store's tables. Each feature adds its tables here and a `Migration` that creates them in
bot/state/versions.py."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
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
    # Compare-and-set guard: a replica bumps it to claim the card before sending, so a render made
    # before someone else's claim can never be sent after it (an older render never wins).
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    # Added by migration 5. Who sends holds the card until `lease_until`; nobody sends before
    # `not_before` (Slack's Retry-After, or the card's own update budget); `retired` says why a card
    # stopped without settling (its message is gone, a newer card replaced it).
    Column("lease_until", UtcDateTime()),
    Column("not_before", UtcDateTime()),
    Column("retired", String(64)),
)
# One live card per thing shown (a migration, a run): every card costs updates from Slack's budget,
# and two replicas answering `/amd migration X` at once must not leave two cards that both update.
live_card_per_key = Index(
    "ux_amd_live_cards_live_key",
    live_cards.c.kind,
    live_cards.c.key,
    unique=True,
    sqlite_where=live_cards.c.settled.is_(False),
    postgresql_where=live_cards.c.settled.is_(False),
)


# Migration ledger (issue 5). One row per chunk, replaced by a later report of the same chunk, so a
# retried chunk never counts twice; (migration, reported_at) serves the rate window.
migration_chunks = Table(
    "amd_migration_chunks",
    metadata,
    Column("migration", String(128), primary_key=True),
    Column("source", String(128), primary_key=True),
    Column("chunk", String(255), primary_key=True),  # token range, ObjectId range, partition, ...
    Column("status", String(16), nullable=False),  # ok | failed
    Column("row_count", BigInteger, nullable=False),
    Column("byte_count", BigInteger, nullable=False),
    Column("checksum", String(128)),  # as the copy job computed it from the source rows
    Column("target_checksum", String(128)),  # the same, over the target rows, set by a validation
    Column("attempts", Integer, nullable=False),
    Column("reported_at", UtcDateTime(), nullable=False),
    Index("ix_amd_migration_chunks_recent", "migration", "reported_at"),
)

migration_sources = Table(
    "amd_migration_sources",
    metadata,
    Column("migration", String(128), primary_key=True),
    Column("source", String(128), primary_key=True),
    Column("expected", BigInteger),  # counted in the source by the copy job (overrides config)
    Column("expected_at", UtcDateTime()),
    Column("target_rows", BigInteger),  # counted in the target by the last validation
    Column("validated_at", UtcDateTime()),
)

# Operator intent, read by copy jobs between chunks: the bot cannot stop a job, only ask it to wait.
migration_control = Table(
    "amd_migration_control",
    metadata,
    Column("migration", String(128), primary_key=True),
    Column("intent", String(16), nullable=False),  # run | pause
    Column("by", String(64), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
)


# dbt test runs (`/amd test`). One row per invocation, and one per test result, so the buttons of a
# card work on any replica and after a restart, and the digest can ask for "failed since <time>".
test_runs = Table(
    "amd_test_runs",
    metadata,
    Column("run_key", String(100), primary_key=True),
    Column("command", String(32), nullable=False),  # test | source freshness
    Column("selector", Text),
    Column("requested_by", String(64), nullable=False),
    Column("channel", String(64), nullable=False),
    Column("card_ts", String(64)),  # the card's message in `channel`
    Column("status", String(16), nullable=False),  # running | done | error | cancelled
    Column("exit_code", Integer),
    Column("invocation_id", String(64)),
    Column("counts", JSON, nullable=False),  # status -> number of tests (or sources)
    Column("error", Text),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("ended_at", UtcDateTime()),
    Index("ix_amd_test_runs_requester", "requested_by", "started_at"),
)

test_results = Table(
    "amd_test_results",
    metadata,
    Column("run_key", String(100), primary_key=True),
    Column("unique_id", String(512), primary_key=True),
    Column("invocation_id", String(64), nullable=False),
    Column("name", String(512), nullable=False),
    Column("status", String(16), nullable=False),  # pass | warn | fail | error | skipped
    Column("failures", BigInteger, nullable=False),
    Column("model", String(512)),  # unique_id of the tested node
    Column("owner", String(128)),  # the model's owner handle when the test ran
    Column("column_name", String(256)),
    Column("severity", String(16), nullable=False),
    Column("execution_time", Float, nullable=False),
    Column("message", Text),
    Column("compiled_code", Text),  # kept only for tests that did not pass (Show SQL)
    Column("failures_relation", JSON),  # {"database", "schema", "name"} of the stored failing rows
    Column("requested_by", String(64), nullable=False),
    Column("at", UtcDateTime(), nullable=False),  # when the invocation ended
    Index("ix_amd_test_results_status_at", "status", "at"),
)


# `/amd run`'s confirmations: dag_run_id derives from the id (one run, however often pressed), `state`
# leaves pending once (compare-and-set); a backfill keeps its last day and options (Airflow 3's values).
run_confirmations = Table(
    "amd_run_confirmations",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("kind", String(16), nullable=False),  # trigger | rerun (clears failed tasks) | backfill (days)
    Column("dag", String(250), nullable=False),
    Column("conf", JSON, nullable=False),
    Column("logical_date", UtcDateTime()),
    Column("requester", String(64), nullable=False),
    Column("channel", String(64), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("state", String(16), nullable=False),  # pending | triggered | cancelled | expired
    Column("decided_by", String(64)),
    Column("dag_run_id", String(250), nullable=False),
    Column("logical_date_end", UtcDateTime()),
    Column("reprocess", String(16)),
    Column("max_active_runs", Integer),
)


# Replicas (issue 8): each beats a heartbeat; past the lease TTL it is dead, its slots free, its work lost.
replicas = Table(
    "amd_replicas",
    metadata,
    Column("owner", String(128), primary_key=True),  # host:pid:random, new at every start
    Column("started_at", UtcDateTime(), nullable=False),
    Column("heartbeat_at", UtcDateTime(), nullable=False, index=True),
)

# Work a replica is doing (a dbt test run, by its run_key), so that a cancel pressed on any replica
# reaches the one running it (it polls for `cancel_by`), and a dead replica's runs are found.
held_work = Table(
    "amd_held_work",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("owner", String(128), nullable=False, index=True),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("cancel_by", String(64)),  # who asked to cancel it; NULL: nobody yet
    Column("cancel_at", UtcDateTime()),
)

# The dbt concurrency limit across replicas: slots 0..limit-1, taken by inserting, freed by deleting.
dbt_slots = Table(
    "amd_dbt_slots",
    metadata,
    Column("slot", Integer, primary_key=True),
    Column("key", String(255), nullable=False),
    Column("owner", String(128), nullable=False),
    Column("taken_at", UtcDateTime(), nullable=False),
)
