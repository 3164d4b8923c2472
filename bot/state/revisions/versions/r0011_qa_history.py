"""Help-channel answers, issue 19: the freshness the watcher observed each sweep (questions about a
past moment), and the questions a clarifying reply's buttons point to (a key, never the text)."""

from alembic import op

from bot.state.answers import asked_questions
from bot.state.freshness import freshness_samples
from bot.state.versions import create

revision = "0011"
down_revision = "0010"


def upgrade() -> None:
    create(freshness_samples, asked_questions)(op.get_bind())
