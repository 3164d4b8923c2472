"""Run confirmations (hand-rolled version 2)."""

from alembic import op

from bot.state.schema import run_confirmations
from bot.state.versions import create

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    create(run_confirmations)(op.get_bind())
