"""The subcommands, in the order `/amd help` lists them. Adding one: its module and a line here."""

from __future__ import annotations

from typing import Any

from bot.core.command import Command
from commands import alerts, ask, digest, home, migration, run, stats, test
from commands.help import help_command

COMMANDS: tuple[Command[Any], ...] = (
    help_command(lambda: COMMANDS),
    stats.command,
    run.command,
    test.command,
    migration.command,
    alerts.command,
    digest.command,
    ask.command,
    home.command,
)
