"""`/amd help [command]`: generated from the commands' own declarations."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel

from bot.core.command import Command, Ctx
from bot.foundation.catalog import Catalog
from bot.foundation.errors import UsageError
from bot.foundation.suggest import unknown
from bot.render.message import Context, Divider, Header, Message, Part, Text


class HelpArgs(BaseModel):
    topic: str | None = None


Listing = Callable[[], Sequence[Command[Any]]]


def parse(words: Sequence[str], names: Sequence[str]) -> HelpArgs:
    if len(words) > 1:
        raise UsageError("`help` takes at most one command name.")
    if not words:
        return HelpArgs()
    topic = words[0].lower()
    if topic not in names:
        message, guess = unknown("command", words[0], names)
        raise UsageError(message, suggestion=f"help {guess}" if guess else None)
    return HelpArgs(topic=topic)


def view_overview(prefix: str, available: Sequence[Command[BaseModel]]) -> Message:
    lines = [f"`{prefix} {c.usage}` — {c.summary}\n      e.g. `{prefix} {c.examples[0]}`" for c in available]
    return Message(
        (
            Header("amd-bot: data status and pipelines from Slack"),
            Text("\n".join(lines)),
            Context((f"`{prefix} help <command>` shows a command's usage and more examples.",)),
        ),
        fallback="amd-bot commands",
    )


def view_command(prefix: str, command: Command[BaseModel]) -> Message:
    examples = "\n".join(f"`{prefix} {e}`" for e in command.examples)
    parts: list[Part] = [
        Header(f"{prefix} {command.name}"),
        Text(f"{command.summary}\n*Usage:* `{prefix} {command.usage}`"),
    ]
    if command.details:
        parts.append(Text(command.details))
    parts += [Divider(), Text(f"*Examples*\n{examples}")]
    return Message(tuple(parts), fallback=f"help for {command.name}")


def help_command(listing: Listing) -> Command[HelpArgs]:
    """The registry passes how to list the commands (itself included), so this module never imports
    the registry that imports it."""

    def parse_args(words: Sequence[str], _catalog: Catalog) -> HelpArgs:
        return parse(words, [c.name for c in listing()])

    async def handle(args: HelpArgs, ctx: Ctx) -> Message:
        prefix = ctx.backends.settings.command
        available = listing()
        if args.topic is None:
            return view_overview(prefix, available)
        return view_command(prefix, next(c for c in available if c.name == args.topic))

    return Command(
        name="help",
        summary="List the commands, or explain one.",
        usage="help [command]",
        examples=("help", "help stats"),
        parse=parse_args,
        handle=handle,
        permission=lambda _args: "help",
        ack=lambda _args: "",
    )
