"""Alembic's environment: it runs on the connection bot/state/migrate.py hands over, inside that
connection's transaction (which holds the migration lock), never on a connection of its own."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from bot.state.schema import metadata

connection = context.config.attributes["connection"]
assert isinstance(connection, Connection), "the state store passes its connection (bot/state/migrate.py)"
context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=context.config.attributes["version_table"],
)
with context.begin_transaction():
    context.run_migrations()
