"""Incidents and alert marks: the failure watcher, alerts and digests (hand-rolled version 7)."""

from alembic import op

from bot.state.incidents import incidents
from bot.state.marks import alert_marks
from bot.state.versions import create

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    create(incidents, alert_marks)(op.get_bind())
