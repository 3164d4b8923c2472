"""Replicas, held work and shared dbt slots (hand-rolled version 6)."""

from alembic import op

from bot.state.schema import dbt_slots, held_work, replicas
from bot.state.versions import create

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    create(replicas, held_work, dbt_slots)(op.get_bind())
