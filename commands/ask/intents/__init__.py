"""The intents the bot answers. Of two with as many cues, the one asked about first wins, then the
earlier here: "migration status" is about the migration, "amd_payment failed?" about its run."""

from __future__ import annotations

from commands.ask.intent import Intent
from commands.ask.intents import (
    freshness,
    history,
    incidents,
    lineage,
    meaning,
    migrations,
    overall,
    owner,
    runs,
    status,
    tests,
    volume,
)

INTENTS: tuple[Intent, ...] = (
    migrations.INTENT,
    incidents.INTENT,
    runs.INTENT,
    tests.INTENT,
    volume.INTENT,
    freshness.INTENT,
    owner.INTENT,
    lineage.INTENT,
    meaning.INTENT,
    # Chosen by meaning, not by cue words (commands/ask/understand.py): they have none.
    status.INTENT,
    overall.INTENT,
    history.INTENT,
)
