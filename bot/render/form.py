"""The platform-neutral form a command can ask for: a Slack modal, or questions one by one in the console.

A form is data, like a Message: the command builds it, bot/render/slack_form.py turns it into a modal
(Slack's limits live there), the console asks its inputs in order. What the person entered comes back
to the command's form handler as `{input name: value}`, read into Python values by the surface.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

InputKind = Literal[
    "text", "number", "integer", "boolean", "select", "multiselect", "date", "datetime", "json"
]


@dataclass(frozen=True)
class Input:
    name: str  # comes back as the key of its value; unique in the form
    label: str
    kind: InputKind
    initial: Any = None  # text: str; number: int | float; boolean: bool; select: one of the choices' values
    hint: str | None = None
    required: bool = False
    choices: tuple[tuple[Any, str], ...] = ()  # (value, label) of a select or multiselect
    minimum: float | None = None
    maximum: float | None = None
    min_length: int | None = None
    max_length: int | None = None


@dataclass(frozen=True)
class Form:
    title: str
    submit_action: str  # "<command>.<key>": the command's form handler that receives the values
    state: str  # opaque to the surface; comes back with the values (Slack: private_metadata)
    inputs: tuple[Input, ...]
    intro: str = ""  # mrkdwn above the inputs
    submit: str = "Continue"
