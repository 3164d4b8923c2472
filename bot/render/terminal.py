"""Message → styled text for a colour terminal (rich): tables, bold headers, coloured ✓/✗/⚠, links as
text, no Slack markup left. `bot/render/console.py` stays the plain face (pipes, NO_COLOR, tests).

Buttons are numbered exactly as in the plain face, so typing `N` presses the same button.
"""

from __future__ import annotations

import io
import re

from rich import box
from rich.console import Console, Group, RenderableType
from rich.rule import Rule
from rich.table import Table as RichTable
from rich.text import Text as RichText

from bot.render.console import plain_links
from bot.render.message import Actions, Code, Context, Divider, Fields, Header, Image, Message, Table, Text

# One pass over the Slack markup the views use; a group per kind of span.
_SPAN = re.compile(
    r"`(?P<code>[^`\n]+)`"
    r"|(?<![\w*])\*(?P<bold>[^*\n]+)\*(?![\w*])"
    r"|(?<![\w_])_(?P<italic>[^_\n]+)_(?![\w_])"
)
_STYLE = {"code": "cyan", "bold": "bold", "italic": "italic"}
_SYMBOLS = {"✓": "bold green", "✗": "bold red", "⚠": "bold yellow", "⏳": "yellow", "↻": "blue"}


def inline(markdown: str, style: str = "") -> RichText:
    source = plain_links(markdown)
    text = RichText(style=style)
    at = 0
    for span in _SPAN.finditer(source):
        text.append(source[at : span.start()])
        kind = span.lastgroup or "code"
        text.append(span.group(kind), style=_STYLE[kind])
        at = span.end()
    text.append(source[at:])
    for symbol, colour in _SYMBOLS.items():
        text.highlight_words([symbol], colour)
    return text


def _fields(pairs: tuple[tuple[str, str], ...]) -> RichTable:
    grid = RichTable.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    for key, value in pairs:
        grid.add_row(key, inline(value))
    return grid


def _table(part: Table) -> RichTable:
    table = RichTable(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False, show_edge=False)
    for index, column in enumerate(part.columns):
        table.add_column(column, justify="right" if index in part.align_right else "left")
    for row in part.rows:
        table.add_row(*(inline(cell) for cell in row))
    return table


def _buttons(buttons: Actions, number: int) -> tuple[RichText, int]:
    line = RichText()
    for button in buttons.buttons:
        if line:
            line.append("  ")
        if button.url:
            line.append(f"{button.label}: {button.url}", style="dim")
        else:
            line.append(f"[{number}]", style="bold reverse")
            line.append(f" {button.label}", style="bold")
            number += 1
    return line, number


def renderables(message: Message, *, first_button: int = 1) -> list[RenderableType]:
    shown: list[RenderableType] = []
    number = first_button
    for part in message.parts:
        match part:
            case Header(text):
                shown.append(inline(text, "bold underline"))
            case Text(markdown):
                shown.append(inline(markdown))
            case Fields(pairs):
                shown.append(_fields(pairs))
            case Table():
                shown.append(_table(part))
            case Code(text, title):
                shown += [RichText(title, style="bold")] if title else []
                shown.append(RichText(text, style="dim"))
            case Context(texts):
                shown.append(inline(" · ".join(texts), "dim"))
            case Divider():
                shown.append(Rule(style="dim"))
            case Image(path, title, _alt):
                shown.append(RichText(f"{title}: {path}", style="dim"))
            case Actions():
                line, number = _buttons(part, number)
                shown.append(line)
    return shown


def to_ansi(message: Message, *, width: int = 100) -> str:
    """The message as text with ANSI styles, laid out for a terminal `width` columns wide."""
    out = io.StringIO()
    screen = Console(
        file=out, force_terminal=True, color_system="standard", width=width, highlight=False, emoji=False
    )
    screen.print(Group(*renderables(message)), markup=False)
    # rich pads a grid's last column to its widest cell: without the padding, a field whose neighbour
    # got longer is not a changed line (the console prints only changed lines of a live card).
    return "\n".join(line.rstrip(" ") for line in out.getvalue().rstrip("\n").splitlines())
