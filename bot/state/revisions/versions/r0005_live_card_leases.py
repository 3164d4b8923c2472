"""Live cards: lease, not-before, retired; one live card per key (hand-rolled version 5)."""

from alembic import op

from bot.state.versions import live_cards_v5

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    live_cards_v5(op.get_bind())
