"""What the schema revisions (bot/state/revisions/versions/) do, as functions of a connection.

A revision only ever adds; released revisions are never edited, so every replica converges on the
same schema whatever revision it started from. Tables are created from today's definitions in
bot/state/schema.py, so a later revision that adds columns skips those a fresh table already has.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, Table, func, inspect, select, text, update

from bot.state.schema import live_card_per_key, live_cards


def add_columns(table: Table, *names: str) -> Callable[[Connection], None]:
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


def live_cards_v5(conn: Connection) -> None:
    add_columns(live_cards, "lease_until", "not_before", "retired")(conn)
    # Before one live card per key was enforced there could be several: the newest goes on.
    c = live_cards.c
    newest = select(func.max(c.id)).where(c.settled.is_(False)).group_by(c.kind, c.key)
    conn.execute(
        update(live_cards)
        .where(c.settled.is_(False), c.id.not_in(newest))
        .values(settled=True, retired="replaced")
    )
    live_card_per_key.create(conn, checkfirst=True)


def create(*tables: Table) -> Callable[[Connection], None]:
    def apply(conn: Connection) -> None:
        for table in tables:
            table.create(conn, checkfirst=True)

    return apply
