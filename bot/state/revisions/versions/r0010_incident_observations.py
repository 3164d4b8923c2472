"""Incidents keep when their newest observation was true, so an older one never undoes it (version 10)."""

from alembic import op

from bot.state.incidents import incidents
from bot.state.versions import add_columns

revision = "0010"
down_revision = "0009"


def upgrade() -> None:
    add_columns(incidents, "observed_at")(op.get_bind())
