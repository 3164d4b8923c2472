"""What a subcommand is: one declaration carrying its name, help, parser, permission and handlers.

Importing a command module only builds its declaration; nothing runs. The router (bot/core/router.py)
parses, checks access, acks, then calls the handler; `/amd help` is generated from these declarations.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel

from bot.render.message import Message

if TYPE_CHECKING:
    from bot.core.backends import Backends
    from bot.core.cards import Refresh
    from bot.core.surface import Surface
    from bot.foundation.catalog import Catalog
    from bot.foundation.ports import CardRef

A = TypeVar("A", bound=BaseModel)


@dataclass
class Ctx:
    """Everything a handler may use. One per command invocation or button press."""

    user: str
    channel: str
    backends: Backends
    surface: Surface
    clicked: CardRef | None = None  # the message whose button was pressed
    text: str = ""
    form_values: Mapping[str, Any] | None = None  # a submitted form's values, by input name
    audit_detail: dict[str, Any] = field(default_factory=dict)  # handlers add e.g. the Airflow run id

    @property
    def catalog(self) -> Catalog:
        return self.backends.catalog

    @staticmethod
    def now() -> datetime:
        return datetime.now(UTC)


Parse = Callable[[Sequence[str], "Catalog"], A]
Handle = Callable[[A, Ctx], Awaitable[Message | None]]
ActionHandler = Callable[[str, Ctx], Awaitable[Message | None]]


@dataclass(frozen=True)
class Action:
    """A button's handler. `permission` names the RBAC action for the button's value, checked by the
    router like a command's: `<command>.<key>:<object>`, a name no other button or command shares. The
    answer (if any) replaces the clicked message."""

    handle: ActionHandler
    permission: Callable[[str], str]


@dataclass(frozen=True)
class Command(Generic[A]):
    """A subcommand. `parse` turns the words after the subcommand into a validated args model (raising
    UsageError or pydantic.ValidationError); `permission` names the RBAC action for those args (several
    when the args name several objects: all must be allowed);
    `handle` does the work after the ack and returns the answer (None when it posted cards itself);
    `actions` answer button presses (`Button.action == f"{name}.{key}"`); `refresh` re-renders the
    live cards this command posted with `bot.core.cards.follow(kind=name, ...)`."""

    name: str
    summary: str
    usage: str  # after "/amd ", e.g. "stats [entity]"
    examples: tuple[str, ...]
    parse: Parse[A]
    handle: Handle[A]
    permission: Callable[[A], str | tuple[str, ...]]
    ack: Callable[[A], str] = lambda _args: "Working on it…"
    actions: Mapping[str, Action] = field(default_factory=dict)
    refresh: Refresh | None = None  # renders this command's live cards (bot/core/cards.py)
    details: str = ""  # extra lines for `/amd help <name>`
    free_text: bool = False  # its words are prose ("ask what's …"): split at spaces, quotes are no quotes
