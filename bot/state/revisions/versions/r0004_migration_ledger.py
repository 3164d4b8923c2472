"""Migration ledger (hand-rolled version 4)."""

from alembic import op

from bot.state.schema import migration_chunks, migration_control, migration_sources
from bot.state.versions import create

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    create(migration_chunks, migration_sources, migration_control)(op.get_bind())
