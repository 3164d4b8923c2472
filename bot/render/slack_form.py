"""Form → Slack modal (views.open), and a view_submission's state back to `{input name: value}`.

Slack's modal limits live here: 100 blocks, title and buttons ≤ 24 characters, option text ≤ 75 and
value ≤ 150, 100 options per select, private_metadata ≤ 3,000. A select with more choices than Slack
shows says in its hint how many it left out (the rest can still be given as `key=value`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bot.render.form import Form, Input
from bot.render.slack import MAX_SECTION_TEXT, cut

MAX_MODAL_BLOCKS = 100
MAX_TITLE = 24
MAX_LABEL = 2000
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_OPTIONS = 100
MAX_TEXT_INPUT = 3000
MAX_PRIVATE_METADATA = 3000
MAX_BLOCK_ID = 255
MAX_ERROR = 500  # an error under an input: Slack shows a line or two, longer ones are cut off anyway
ACTION = "value"  # the one element of each input block
BLOCK_PREFIX = "in:"

Block = dict[str, Any]


class StateTooLong(ValueError):
    """The form's state does not fit Slack's private_metadata: the caller must keep less in it."""


def to_view(form: Form, *, channel: str) -> Block:
    """`channel`: where the form was opened from, for the answer to its submission (a view_submission
    names no channel), kept with the form's state in private_metadata."""
    metadata = json.dumps({"channel": channel, "state": form.state}, separators=(",", ":"))
    if len(metadata) > MAX_PRIVATE_METADATA:
        raise StateTooLong(f"form state is {len(metadata)} characters; Slack keeps {MAX_PRIVATE_METADATA}")
    blocks: list[Block] = []
    if form.intro:
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": cut(form.intro, MAX_SECTION_TEXT)}}
        )
    room = MAX_MODAL_BLOCKS - len(blocks) - 1  # one left for the note that some inputs were left out
    shown = form.inputs if len(form.inputs) <= room + 1 else form.inputs[:room]
    blocks += [_input(i) for i in shown]
    if len(shown) < len(form.inputs):
        left = len(form.inputs) - len(shown)
        note = f"{left} more params are not in this form (Slack shows 100 blocks); give them as `key=value`."
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": note}]})
    return {
        "type": "modal",
        "callback_id": f"amd:{form.submit_action}",
        "title": _plain(cut(form.title, MAX_TITLE)),
        "submit": _plain(cut(form.submit, MAX_TITLE)),
        "close": _plain("Cancel"),
        "private_metadata": metadata,
        "blocks": blocks,
    }


def read_metadata(private_metadata: str) -> tuple[str, str]:
    """(channel, form state) of a submitted view."""
    kept = json.loads(private_metadata)
    return str(kept["channel"]), str(kept["state"])


def errors_response(problems: Mapping[str, str]) -> Block:
    """A view_submission's ack: `response_action: errors` keeps the modal open with each problem at
    its input; an empty answer closes it."""
    if not problems:
        return {}
    return {
        "response_action": "errors",
        "errors": {block_id(n): cut(p, MAX_ERROR) for n, p in problems.items()},
    }


def block_id(name: str) -> str:
    return cut(f"{BLOCK_PREFIX}{name}", MAX_BLOCK_ID, "")


def read_values(state_values: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """`view.state.values` → `{input name: value}`: text as str (None when empty), numbers as int or
    float, a checkbox as bool, a select's choice as the value it stands for, dates as ISO text."""
    values: dict[str, Any] = {}
    for block, actions in state_values.items():
        if block.startswith(BLOCK_PREFIX) and ACTION in actions:
            values[block.removeprefix(BLOCK_PREFIX)] = _read(actions[ACTION])
    return values


def _read(element: dict[str, Any]) -> Any:
    match element.get("type"):
        case "number_input":
            raw = element.get("value")
            if raw is None:
                return None
            return int(raw) if raw.lstrip("+-").isdigit() else float(raw)
        case "checkboxes":
            return bool(element.get("selected_options"))
        case "static_select":
            option = element.get("selected_option")
            return None if option is None else json.loads(option["value"])
        case "multi_static_select":
            return [json.loads(o["value"]) for o in element.get("selected_options") or []]
        case "datepicker":
            return element.get("selected_date")
        case "datetimepicker":
            moment = element.get("selected_date_time")
            return None if moment is None else datetime.fromtimestamp(moment, UTC).isoformat()
    return element.get("value")


def _input(field: Input) -> Block:
    element, hint = _element(field)
    hint = " ".join(h for h in (field.hint, hint) if h)
    block: Block = {
        "type": "input",
        "block_id": block_id(field.name),
        "label": _plain(cut(field.label, MAX_LABEL)),
        "element": {"action_id": ACTION, **element},
        # Slack marks the optional ones "(optional)" and refuses to submit an empty required one. A
        # checkbox left unticked is an answer (false), so it is never required.
        "optional": not field.required or field.kind == "boolean",
    }
    if hint:
        block["hint"] = _plain(cut(hint, MAX_LABEL))
    return block


def _element(field: Input) -> tuple[Block, str]:
    """The element for an input, and what its hint must add (options left out)."""
    initial = field.initial
    match field.kind:
        case "integer" | "number":
            element: Block = {"type": "number_input", "is_decimal_allowed": field.kind == "number"}
            for key, bound in (("min_value", field.minimum), ("max_value", field.maximum)):
                if bound is not None:
                    element[key] = _number(bound)
            if isinstance(initial, int | float) and not isinstance(initial, bool):
                element["initial_value"] = _number(initial)
            return element, ""
        case "boolean":
            option = {"text": _plain(cut(field.label, MAX_OPTION_TEXT)), "value": "true"}
            element = {"type": "checkboxes", "options": [option]}
            if initial is True:
                element["initial_options"] = [option]
            return element, ""
        case "select" | "multiselect":
            return _select(field)
        case "date":
            return (
                {"type": "datepicker", "initial_date": initial} if initial else {"type": "datepicker"}
            ), ""
        case "datetime":
            element = {"type": "datetimepicker"}
            if isinstance(initial, datetime):
                element["initial_date_time"] = int(initial.timestamp())
            return element, ""
    element = {"type": "plain_text_input", "multiline": field.kind == "json"}
    if field.min_length is not None:
        element["min_length"] = min(field.min_length, MAX_TEXT_INPUT)
    element["max_length"] = min(field.max_length or MAX_TEXT_INPUT, MAX_TEXT_INPUT)
    if initial not in (None, ""):
        text = initial if isinstance(initial, str) else json.dumps(initial, indent=2)
        element["initial_value"] = cut(text, MAX_TEXT_INPUT)
    return element, ""


def _select(field: Input) -> tuple[Block, str]:
    options: list[Block] = []
    for value, label in field.choices:
        encoded = json.dumps(value)
        if len(encoded) <= MAX_OPTION_VALUE and len(options) < MAX_OPTIONS:
            options.append({"text": _plain(cut(label, MAX_OPTION_TEXT)), "value": encoded})
    left = len(field.choices) - len(options)
    hint = f"{left} of {len(field.choices)} values are not listed; give one as `key=value`." if left else ""
    multi = field.kind == "multiselect"
    element: Block = {"type": "multi_static_select" if multi else "static_select", "options": options}
    listed = {o["value"]: o for o in options}
    chosen = [listed[v] for v in map(json.dumps, field.initial if multi else [field.initial]) if v in listed]
    if chosen and multi:
        element["initial_options"] = chosen
    elif chosen:
        element["initial_option"] = chosen[0]
    return element, hint


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _plain(text: str) -> Block:
    return {"type": "plain_text", "text": text}
