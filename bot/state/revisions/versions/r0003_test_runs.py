"""dbt test runs and results (hand-rolled version 3)."""

from alembic import op

from bot.state.schema import test_results, test_runs
from bot.state.versions import create

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    create(test_runs, test_results)(op.get_bind())
