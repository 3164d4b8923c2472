"""Run confirmations of a backfill keep the last logical date of their range (version 12)."""

from alembic import op

from bot.state.schema import run_confirmations
from bot.state.versions import add_columns

revision = "0012"
down_revision = "0011"


def upgrade() -> None:
    add_columns(run_confirmations, "logical_date_end")(op.get_bind())
