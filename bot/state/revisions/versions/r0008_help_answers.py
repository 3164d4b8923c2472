"""Help-channel answers: rate windows, answered threads (hand-rolled version 8)."""

from alembic import op

from bot.state.answers import answered_threads, rate_windows
from bot.state.versions import create

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    create(rate_windows, answered_threads)(op.get_bind())
