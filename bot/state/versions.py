"""The state store's ordered schema migrations, applied at start under a lock (bot/state/store.py).

A migration only ever adds; released migrations are never edited, so every replica converges on the
same schema whatever version it started from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, Table, func, inspect, select, text, update

from bot.state.incidents import alert_marks, incidents
from bot.state.schema import (
    audit_log,
    claims,
    dbt_slots,
    held_work,
    live_card_per_key,
    live_cards,
    migration_chunks,
    migration_control,
    migration_sources,
    processed_events,
    replicas,
    run_confirmations,
    test_results,
    test_runs,
)


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: Callable[[Connection], None]


def _add_columns(table: Table, *names: str) -> Callable[[Connection], None]:
    """ALTER TABLE … ADD COLUMN for columns a table gained. A fresh database already has them: its
    first migration creates the table from today's definition."""

    def apply(conn: Connection) -> None:
        present = {c["name"] for c in inspect(conn).get_columns(table.name)}
        for name in names:
            if name not in present:
                column = table.c[name]
                kind = column.type.compile(dialect=conn.dialect)
                conn.execute(text(f'ALTER TABLE {table.name} ADD COLUMN "{name}" {kind}'))

    return apply


def _live_cards_v5(conn: Connection) -> None:
    _add_columns(live_cards, "lease_until", "not_before", "retired")(conn)
    # Before one live card per key was enforced there could be several: the newest goes on.
    c = live_cards.c
    newest = select(func.max(c.id)).where(c.settled.is_(False)).group_by(c.kind, c.key)
    conn.execute(
        update(live_cards)
        .where(c.settled.is_(False), c.id.not_in(newest))
        .values(settled=True, retired="replaced")
    )
    live_card_per_key.create(conn, checkfirst=True)


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
    Migration(2, "run confirmations", _create(run_confirmations)),
    Migration(3, "dbt test runs and results", _create(test_runs, test_results)),
    Migration(4, "migration ledger", _create(migration_chunks, migration_sources, migration_control)),
    Migration(
        5,
        "live cards: lease, not-before, retired; one live card per key",
        _live_cards_v5,
    ),
    Migration(6, "replicas, held work and shared dbt slots", _create(replicas, held_work, dbt_slots)),
    Migration(
        7, "incidents and alert marks (failure watcher, alerts, digests)", _create(incidents, alert_marks)
    ),
)
