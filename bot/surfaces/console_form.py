"""A form in the console: its inputs asked one at a time, each answer read as its kind wants it.

Enter keeps the value shown in brackets (the default); a select takes the number or the value of a
choice; a multiselect takes them separated by commas, `-` for none. When every input is answered the
values go to the form's handler, which checks them all; the inputs it finds wrong are asked again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.render.form import Form, Input

_KIND_NAME = {"integer": "A whole number", "number": "A number"}
_YES, _NO = frozenset({"y", "yes", "true", "1"}), frozenset({"n", "no", "false", "0"})


class FormQuestions:
    def __init__(self, form: Form) -> None:
        self.form = form
        self.values: dict[str, Any] = {i.name: _plain(i.initial) for i in form.inputs}
        self.pending: list[Input] = list(form.inputs)

    def question(self) -> str:
        field = self.pending[0]
        lines = [f"{field.label}{' (required)' if field.required else ''}"]
        if field.hint:
            lines[0] += f" — {field.hint}"
        if field.choices:
            lines.append("  " + "  ".join(f"{n}) {label}" for n, (_, label) in enumerate(field.choices, 1)))
        shown = self.values.get(field.name)
        default = "" if shown in (None, "", []) else f" [{_shown(shown)}]"
        return "\n".join(lines) + f"\n{default.strip()}> "

    def answer(self, line: str) -> str | None:
        """Take the answer to the current question; a problem with it, or None when it was taken."""
        field = self.pending[0]
        text = line.strip()
        try:
            if text:
                self.values[field.name] = _read(field, text)
            elif field.kind == "boolean" and self.values.get(field.name) is None:
                self.values[field.name] = False
        except ValueError as exc:
            return str(exc)
        self.pending.pop(0)
        return None

    def again(self, problems: Mapping[str, str]) -> None:
        self.pending = [i for i in self.form.inputs if i.name in problems]

    @property
    def done(self) -> bool:
        return not self.pending


def _read(field: Input, text: str) -> Any:
    match field.kind:
        case "boolean":
            if text.lower() in _YES | _NO:
                return text.lower() in _YES
            raise ValueError("yes or no, please.")
        case "integer" | "number":
            try:
                return int(text) if field.kind == "integer" or text.lstrip("+-").isdigit() else float(text)
            except ValueError:
                raise ValueError(
                    f"A{'n integer' if field.kind == 'integer' else ' number'}, please."
                ) from None
        case "select":
            return _choice(field, text)
        case "multiselect":
            return [] if text == "-" else [_choice(field, t.strip()) for t in text.split(",") if t.strip()]
    return text


def _choice(field: Input, text: str) -> Any:
    if text.isdigit() and 1 <= int(text) <= len(field.choices):
        return field.choices[int(text) - 1][0]
    for value, label in field.choices:
        if text.lower() in (str(value).lower(), label.lower()):
            return value
    raise ValueError(f"`{text[:40]}` is not one of the choices; type its number.")


def _plain(value: Any) -> Any:
    """An initial value as the form's handler reads values: a moment as ISO text, like Slack's pickers."""
    return value.isoformat() if isinstance(value, datetime) else value


def _shown(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)
