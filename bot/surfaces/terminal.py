"""The interactive console as a terminal app (prompt_toolkit): line editing, history kept across
sessions, completion of subcommands and catalog names, and live cards that keep changing above the
prompt while it waits for the next line. Commands run in the background, so the prompt stays usable
while one waits for dbt. Ctrl-C drops the line being typed and stops the commands still running;
Ctrl-D (or `quit`) ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TextIO

import rich.console
from prompt_toolkit import PromptSession
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.history import FileHistory
from prompt_toolkit.input import Input
from prompt_toolkit.output import Output

from bot.render.console import to_text
from bot.render.terminal import to_ansi
from bot.surfaces.console import Console, Render

PROMPT = "amd> "
GREETING = "amd-bot console — type `/amd help`, a button number, Tab to complete; Ctrl-D or `quit` ends.\n"


def renderer() -> Render:
    """Styles for a terminal; plain text for a pipe, a file, or NO_COLOR (rich reads both)."""
    screen = rich.console.Console()
    if not screen.is_terminal or screen.no_color:
        return to_text
    return lambda message: to_ansi(message, width=screen.width)  # the width as it is now, after resizes


def vocabulary(console: Console) -> dict[str, list[str]]:
    """What may follow each subcommand: its own keywords and the catalog's names."""
    catalog = console.backends.catalog
    entities = catalog.entity_names()
    dags = sorted(catalog.dags())
    migrations = [m.name for m in console.backends.settings.migrations]
    return {c.name: [] for c in console.commands} | {
        "stats": entities,
        "run": ["status", *entities, *dags, "--date"],
        "test": ["--freshness", "cancel", *entities],
        "migration": [*migrations, "pause", "resume"],
        "help": [c.name for c in console.commands],
    }


class CommandCompleter(Completer):
    """`/amd <Tab>` offers subcommands; after a subcommand, its vocabulary."""

    def __init__(self, prefix: str, words: Mapping[str, Sequence[str]]) -> None:
        self.prefix = prefix
        self.words = words

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterable[Completion]:
        before = document.text_before_cursor
        typed = before.split()
        current = "" if before.endswith(" ") or not typed else typed[-1]
        done = typed[:-1] if current else typed
        if done[:1] != [self.prefix]:
            # A command needs its prefix (a bare `stats` is asked "did you mean"), so a first word
            # completes to the whole command and nothing is offered after a word without it.
            if done or (current and self.prefix.startswith(current)):
                choices = [] if done else [self.prefix]
            else:
                for word in (w for w in self.words if w.startswith(current)):
                    yield Completion(f"{self.prefix} {word}", start_position=-len(current))
                return
        elif not done[1:]:
            choices = list(self.words)
        else:
            choices = [w for w in self.words.get(done[1].lower(), ()) if w not in done[2:]]
        for choice in choices:
            if choice.startswith(current) and choice != current:
                yield Completion(choice, start_position=-len(current))


async def repl(
    console: Console,
    *,
    history: Path,
    interval_s: float,
    input: Input | None = None,
    output: Output | None = None,
) -> None:
    """Read lines until Ctrl-D or `quit`. Each command runs in the background, as it does in Slack after
    the ack, so the prompt stays usable while dbt works; live cards refresh every `interval_s`."""
    history.parent.mkdir(parents=True, exist_ok=True)
    prefix = console.backends.settings.command
    session: PromptSession[str] = PromptSession(
        history=FileHistory(str(history)),
        completer=CommandCompleter(prefix, vocabulary(console)),
        complete_while_typing=False,  # Tab completes; typing is not interrupted by a menu
        input=input,
        output=output,
    )
    console.surface.write(GREETING)
    running: set[asyncio.Task[None]] = set()
    live = asyncio.create_task(console.keep_live(interval_s))
    with _sigint_stops(running):
        try:
            while True:
                try:
                    line = await session.prompt_async(PROMPT)
                except KeyboardInterrupt:
                    _stop(running)  # Ctrl-C as a key, at the prompt: drops the line, stops what runs
                    continue
                except EOFError:
                    break
                if line.strip() in {"quit", "exit"}:
                    break
                if line.strip():
                    task = asyncio.create_task(_announced(console, line))
                    running.add(task)
                    task.add_done_callback(running.discard)
        finally:
            live.cancel()
            _stop(running)
            await asyncio.gather(*running, return_exceptions=True)


async def _announced(console: Console, line: str) -> None:
    try:
        await console.execute(line)
    except asyncio.CancelledError:
        console.surface.write(f"(interrupted: {line.strip()})\n")


def _stop(running: set[asyncio.Task[None]]) -> None:
    for task in running:
        task.cancel()


@contextlib.contextmanager
def _sigint_stops(running: set[asyncio.Task[None]]) -> Iterator[None]:
    """Outside the prompt's raw mode (a command printing, a pipe) Ctrl-C arrives as SIGINT: it stops the
    commands still running instead of ending the console."""
    loop = asyncio.get_running_loop()
    previous = signal.getsignal(signal.SIGINT)
    try:
        loop.add_signal_handler(signal.SIGINT, _stop, running)
    except (NotImplementedError, RuntimeError, ValueError):
        previous = None  # Windows, or not the main thread: Ctrl-C ends the console as it always did
    try:
        yield
    finally:
        if previous is not None:
            loop.remove_signal_handler(signal.SIGINT)
            signal.signal(signal.SIGINT, previous)  # asyncio.run's own handler, for Ctrl-C elsewhere


async def read_piped(console: Console, lines: TextIO) -> None:
    """Commands piped in (a script, a heredoc): no prompt to draw, no keys to edit; each line in turn."""
    while line := await asyncio.to_thread(lines.readline):
        if line.strip() in {"quit", "exit"}:
            break
        if line.strip():
            await console.execute(line)
