"""The platform-neutral message body every handler's result is presented as.

Parts use a small subset of Slack mrkdwn (`*bold*`, `_italic_`, `` `code` ``, `<url|label>`, `<@U123>`)
that the console renderer turns into plain text. Slack's size limits are NOT enforced here:
`bot/render/slack.py` owns them, so a view never has to think about them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal


@dataclass(frozen=True)
class Header:
    text: str


@dataclass(frozen=True)
class Text:
    markdown: str


@dataclass(frozen=True)
class Fields:
    pairs: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    align_right: frozenset[int] = frozenset()  # column indexes of numbers


@dataclass(frozen=True)
class Image:
    path: Path  # a PNG on disk: uploaded to Slack, its path printed in the console
    title: str
    alt: str


@dataclass(frozen=True)
class Context:
    texts: tuple[str, ...]


@dataclass(frozen=True)
class Divider:
    pass


@dataclass(frozen=True)
class Button:
    label: str
    action: str  # "<command>.<action>", dispatched by the router to that command's action handler
    value: str = ""  # opaque to Slack; at most 2,000 characters
    style: Literal["primary", "danger"] | None = None
    url: str | None = None  # a link button: opens the url, no action reaches the bot


@dataclass(frozen=True)
class Actions:
    buttons: tuple[Button, ...]


@dataclass(frozen=True)
class Code:
    """A preformatted snippet (SQL, logs); long ones become a file in Slack."""

    text: str
    title: str = ""


Part = Header | Text | Fields | Table | Image | Context | Divider | Actions | Code


@dataclass(frozen=True)
class Message:
    parts: tuple[Part, ...]
    fallback: str  # notification text; also what screen readers and old clients show
    public: bool = False  # False: only the requester sees it (ephemeral)
    live: bool = False  # True while the card will still change (a run in progress)
    mentions: tuple[str, ...] = field(default=())  # Slack ids to @-mention when the card settles
    # As the answer to a button press: replace the message that had the button. Refusals and errors
    # don't, so a bystander pressing a button on a public card cannot wipe it for everyone.
    replace: bool = True
    # A scheduled effect's claim key (bot/alerts): carried as Slack message metadata, so a replica that
    # takes over a dead one's claim can find the post that already happened instead of posting twice.
    key: str | None = None
    # A thread reply the channel should see too (Slack's reply_broadcast): an alert told again.
    broadcast: bool = False

    def buttons(self) -> tuple[Button, ...]:
        return tuple(b for p in self.parts if isinstance(p, Actions) for b in p.buttons if b.url is None)


def error(text: str, *, hint: str | None = None) -> Message:
    parts: list[Part] = [Text(f":warning: {text}")]
    if hint:
        parts.append(Context((hint,)))
    return Message(tuple(parts), fallback=text, replace=False)


def note(text: str) -> Message:
    return Message((Text(text),), fallback=text)
