"""Run confirmations of a backfill keep its options: reprocess behaviour and max active runs (version 13)."""

from alembic import op

from bot.state.schema import run_confirmations
from bot.state.versions import add_columns

revision = "0013"
down_revision = "0012"


def upgrade() -> None:
    add_columns(run_confirmations, "reprocess", "max_active_runs")(op.get_bind())
