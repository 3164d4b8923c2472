"""Alert deliveries: the per (incident, channel, notification) state machine (hand-rolled version 9)."""

from alembic import op

from bot.state.deliveries import deliveries
from bot.state.versions import create

revision = "0009"
down_revision = "0008"


def upgrade() -> None:
    create(deliveries)(op.get_bind())
