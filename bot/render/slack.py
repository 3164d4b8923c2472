"""Message → Block Kit. Slack's limits live here and only here; a view never thinks about them.

Over-long content is cut with a visible marker rather than letting Slack reject the message
(`invalid_blocks`, `msg_too_long`): a truncated answer is still an answer.
"""

from __future__ import annotations

from typing import Any

from bot.render.message import (
    Actions,
    Code,
    Context,
    Divider,
    Fields,
    Header,
    Image,
    Message,
    Table,
    Text,
)
from bot.render.table import format_table

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_HEADER = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTIONS = 25
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_ACTION_ID = 255
MAX_MESSAGE_TEXT = 40000
# Slack also refuses messages whose blocks add up to too much text (msg_blocks_too_long, ~13k);
# staying well under keeps long cards safe.
MAX_TOTAL_TEXT = 12000
ACTION_PREFIX = "amd:"

Block = dict[str, Any]


def cut(text: str, limit: int, marker: str = "…") -> str:
    return text if len(text) <= limit else text[: limit - len(marker)] + marker


def to_blocks(message: Message) -> list[Block]:
    blocks: list[Block] = []
    for part in message.parts:
        blocks.extend(_part(part, len(blocks)))
    return _fit(blocks)


def fallback_text(message: Message) -> str:
    return cut(message.fallback or " ", MAX_MESSAGE_TEXT)


def _mrkdwn(text: str) -> Block:
    return {"type": "mrkdwn", "text": text}


def _section(text: str) -> list[Block]:
    if not text:
        return []
    chunks = [text[i : i + MAX_SECTION_TEXT] for i in range(0, len(text), MAX_SECTION_TEXT)]
    return [{"type": "section", "text": _mrkdwn(c)} for c in chunks]


def _part(part: object, index: int) -> list[Block]:
    match part:
        case Header(text):
            return [{"type": "header", "text": {"type": "plain_text", "text": cut(text, MAX_HEADER)}}]
        case Text(markdown):
            return _section(markdown)
        case Fields(pairs):
            fields = [_mrkdwn(cut(f"*{k}*\n{v}", MAX_FIELD_TEXT)) for k, v in pairs]
            return [
                {"type": "section", "fields": fields[i : i + MAX_FIELDS]}
                for i in range(0, len(fields), MAX_FIELDS)
            ]
        case Table():
            return [_code_section(format_table(part), f"… {len(part.rows)} rows in all")]
        case Code(text, title):
            heading = f"*{title}*\n" if title else ""
            return [_code_section(text, "… (cut; the full text is in the thread)", heading)]
        case Context(texts):
            elements = [_mrkdwn(cut(t, MAX_SECTION_TEXT)) for t in texts[:MAX_CONTEXT_ELEMENTS] if t]
            return [{"type": "context", "elements": elements}] if elements else []
        case Divider():
            return [{"type": "divider"}]
        case Actions(buttons):
            elements = [_button(b, index, n) for n, b in enumerate(buttons[:MAX_ACTIONS])]
            return [{"type": "actions", "elements": elements}] if elements else []
        case Image(path, title, _alt):
            # The PNG itself is uploaded next to the message by the Slack surface (files_upload_v2).
            return [{"type": "context", "elements": [_mrkdwn(f":bar_chart: {title} (`{path.name}`)")]}]
    raise TypeError(f"unknown message part {part!r}")


def _code_section(text: str, marker: str, heading: str = "") -> Block:
    budget = MAX_SECTION_TEXT - len(heading) - len("``````") - len(marker) - 2
    body = text if len(text) <= budget else text[: text.rfind("\n", 0, budget) if "\n" in text else budget]
    tail = "" if body == text else f"\n{marker}"
    return {"type": "section", "text": _mrkdwn(f"{heading}```{body}```{tail}")}


def _button(button: Any, block_index: int, n: int) -> Block:
    element: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": cut(button.label, MAX_BUTTON_TEXT)},
    }
    if button.url:
        element["url"] = button.url
        element["action_id"] = f"link:{block_index}:{n}"
        return element
    # The suffix keeps action_ids unique within the message when several buttons share an action.
    element["action_id"] = cut(f"{ACTION_PREFIX}{button.action}:{block_index}:{n}", MAX_ACTION_ID, "")
    element["value"] = cut(button.value, MAX_BUTTON_VALUE, "")
    if button.style:
        element["style"] = button.style
    return element


def parse_action_id(action_id: str) -> str:
    """`amd:run.trigger:3:0` → `run.trigger`."""
    return action_id.removeprefix(ACTION_PREFIX).split(":", 1)[0]


def _fit(blocks: list[Block]) -> list[Block]:
    kept: list[Block] = []
    total = 0
    for block in blocks:
        size = len(str(block))
        if len(kept) == MAX_BLOCKS - 1 or total + size > MAX_TOTAL_TEXT:
            left = len(blocks) - len(kept)
            kept.append({"type": "context", "elements": [_mrkdwn(f"… {left} more parts not shown")]})
            return kept
        kept.append(block)
        total += size
    return kept
