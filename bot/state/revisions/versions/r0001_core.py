"""Audit log, processed events, claims, live cards (hand-rolled version 1)."""

from alembic import op

from bot.state.schema import audit_log, claims, live_cards, processed_events
from bot.state.versions import create

revision = "0001"
down_revision = None


def upgrade() -> None:
    create(audit_log, processed_events, claims, live_cards)(op.get_bind())
