"""What an intent is: the cues that recognise it (understanding) and the function that fetches its
facts (answering). Adding an intent is one module in `intents/` exporting one `Intent`, and a line in
`intents/__init__.py`. Understanding never fetches; answering never reads the question's words."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from commands.ask.subjects import Subjects

if TYPE_CHECKING:
    from bot.core.command import Ctx
    from bot.foundation.catalog import Catalog


@dataclass(frozen=True)
class Question:
    text: str  # as plain words (commands/ask/markup.py)
    intent: str | None
    subjects: Subjects = field(default_factory=Subjects)
    declined: str | None = None  # why the bot will not answer this (a write, an ad-hoc analysis)
    turned_down: str | None = None  # a request beside the question, not done: "… and can you delete them?"
    also: tuple[str, ...] = ()  # further intents asked in the same message, answered together
    why: bool = False  # asks for causes ("why is payment stale?"), not only the symptom

    @property
    def intents(self) -> tuple[str, ...]:
        return (self.intent, *self.also) if self.intent else ()

    @property
    def entity(self) -> str | None:
        """The entity named first; or the one entity that has the column named."""
        if self.subjects.entities:
            return self.subjects.entities[0]
        return self.subjects.column_of[0] if len(self.subjects.column_of) == 1 else None


@dataclass(frozen=True)
class Answer:
    """Facts and where they come from: the reply always says `source` and `as_of`, and offers `more`."""

    lines: tuple[str, ...]
    source: str  # "the warehouse", "the dbt manifest", ...
    as_of: datetime
    more: str  # the slash command (after the prefix) that shows more, e.g. "stats payment"
    subject: str | None = None  # what a follow-up in the thread ("and purchase?") keeps asking about


@dataclass(frozen=True)
class Pick:
    """The answer needs one thing the question left open: the reply offers `options` as buttons."""

    prompt: str
    options: tuple[str, ...]  # entity names, `entity.column`s or migration names


Fetch = Callable[[Question, "Ctx"], Awaitable[Answer | Pick]]
# The actions a question about a named subject needs (commands/ask/access.py): refused, it gets no fact.
Reads = Callable[[Question, "Catalog"], tuple[str, ...]]


def stats_read(question: Question, catalog: Catalog) -> tuple[str, ...]:
    """`stats:<entity>`: freshness, volume, meaning, owner and lineage are what `/amd stats` shows."""
    entity = question.entity
    return (f"stats:{entity}",) if entity else ()


@dataclass(frozen=True)
class Intent:
    """`words`: single cue words, recognised through typos too; `phrases`: regexes over the plain text;
    `subject`: what the answer is about, which the question must name or the reply asks for
    ("entity"), may name ("any": without one the answer covers everything), or "migration"."""

    name: str
    label: str  # a button's label when the bot asks which intent was meant, e.g. "Freshness"
    words: frozenset[str]
    phrases: tuple[re.Pattern[str], ...]
    subject: str
    fetch: Fetch
    weak: tuple[
        re.Pattern[str], ...
    ] = ()  # generic phrasings ("what is …"): decide only when nothing else does
    reads: Reads = stats_read
    of_migrations: bool = False  # a migration named stands for the entity: "who owns the address migration?"


def phrases(*patterns: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(rf"\b(?:{p})\b") for p in patterns)
