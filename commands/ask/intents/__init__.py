"""The intents the bot answers, in the order ties are decided (the earlier wins): "what tests are
failing?" is about tests before runs, "what is the migration status?" about the migration."""

from __future__ import annotations

from commands.ask.intent import Intent
from commands.ask.intents import freshness, lineage, meaning, migrations, owner, runs, tests, volume

INTENTS: tuple[Intent, ...] = (
    migrations.INTENT,
    tests.INTENT,
    runs.INTENT,
    volume.INTENT,
    freshness.INTENT,
    owner.INTENT,
    lineage.INTENT,
    meaning.INTENT,
)
