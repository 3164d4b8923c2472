"""Message → plain text for the local console: the same answer Slack gets, readable in a terminal.

Buttons are numbered (`[1] Trigger`) so a person can press one by typing its number.
"""

from __future__ import annotations

import re

from bot.render.message import Actions, Code, Context, Divider, Fields, Header, Image, Message, Table, Text
from bot.render.table import format_table

_EMOJI = {
    ":white_check_mark:": "✓",
    ":heavy_check_mark:": "✓",
    ":x:": "✗",
    ":warning:": "⚠",
    ":grey_question:": "?",
    ":hourglass_flowing_sand:": "⏳",
    ":large_blue_circle:": "●",
    ":red_circle:": "●",
    ":bar_chart:": "▤",
    ":arrows_counterclockwise:": "↻",
    ":double_vertical_bar:": "⏸",
    ":calendar:": "◌",
    ":turtle:": "⧖",
    ":no_entry_sign:": "⊘",
}
_LINK = re.compile(r"<(https?://[^|>]+|file://[^|>]+)\|([^>]+)>")
_BARE_LINK = re.compile(r"<((?:https?|file)://[^>]+)>")
_USER = re.compile(r"<@([A-Z0-9_]+)>")
_GROUP = re.compile(r"<!subteam\^([A-Z0-9]+)>")
_BOLD = re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])")
# Underscores inside names (`amd_payment`) are not italics: only a span with no word character outside.
_ITALIC = re.compile(r"(?<![\w_])_([^_\n]+)_(?![\w_])")


def plain_links(markdown: str) -> str:
    """Links, mentions and emoji codes as a terminal shows them; emphasis is left to the caller."""
    text = _LINK.sub(r"\2 (\1)", markdown)
    text = _BARE_LINK.sub(r"\1", text)
    text = _USER.sub(r"@\1", text)
    text = _GROUP.sub(r"@\1", text)
    for code, symbol in _EMOJI.items():
        text = text.replace(code, symbol)
    return text


def plain(markdown: str) -> str:
    return _ITALIC.sub(r"\1", _BOLD.sub(r"\1", plain_links(markdown)))


def to_text(message: Message, *, first_button: int = 1) -> str:
    lines: list[str] = []
    number = first_button
    for part in message.parts:
        match part:
            case Header(text):
                lines += [plain(text), "=" * min(len(text), 72)]
            case Text(markdown):
                lines.append(plain(markdown))
            case Fields(pairs):
                width = max(len(k) for k, _ in pairs) if pairs else 0
                lines += [f"{k.ljust(width)}  {plain(v)}" for k, v in pairs]
            case Table():
                lines.append(format_table(part))
            case Code(text, title):
                lines += ([title] if title else []) + [text]
            case Context(texts):
                lines.append(plain(" · ".join(texts)))
            case Divider():
                lines.append("-" * 40)
            case Image(path, title, _alt):
                lines.append(f"{title}: {path}")
            case Actions(buttons):
                shown = []
                for button in buttons:
                    if button.url:
                        shown.append(f"[{button.label}: {button.url}]")
                    else:
                        shown.append(f"[{number}] {button.label}")
                        number += 1
                lines.append("  ".join(shown))
    return "\n".join(lines)
