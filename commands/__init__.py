"""The subcommands, in the order `/amd help` lists them. Adding one: its module and a line here."""

from __future__ import annotations

from typing import Any

from bot.command import Command
from commands import help, migration, run, stats, test

COMMANDS: tuple[Command[Any], ...] = (
    help.command,
    stats.command,
    run.command,
    test.command,
    migration.command,
)
