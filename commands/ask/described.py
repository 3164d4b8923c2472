"""Entities named otherwise than by their names: cut short ("pmt", "deliv addr", "txns":
commands/ask/typos.py) or described ("the card captures table", "checkouts", "are registrations
behind?"). A description's words come from the first sentence of the entity's dbt description (where a
project says what one row is: "One row per checkout (basket) a user created, from `purchase_created`
events"); a word one entity's says and no other's stands for it. Lemmas match ("captures" is what
"captured" says); in a name's place, so do words sharing a stem of six letters ("registrations",
"registered"). Consulted only where nothing else is named.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import pairwise
from typing import Protocol

from bot.foundation.catalog import Entity
from commands.ask.lemmas import lemma, lemmas_of
from commands.ask.places import said_as_a_word
from commands.ask.typos import VOWELS, abbreviation_of, is_cue


class Vocabulary(Protocol):
    """What of commands/ask/subjects.py's vocabulary is read here (it imports this module)."""

    @property
    def names(self) -> Mapping[str, str]: ...
    @property
    def described(self) -> Mapping[str, str]: ...
    @property
    def explained(self) -> frozenset[str]: ...
    @property
    def cues(self) -> frozenset[str]: ...
    @property
    def phrases(self) -> tuple[re.Pattern[str], ...]: ...


STEM = 6  # letters two forms of a word share: "regist|ration", "regist|ered"
# What any description says: no entity's in particular.
_GENERAL = "one row rows every each event events record records version"
_BOILERPLATE = frozenset(lemma(w) for w in _GENERAL.split())
_WORD = re.compile(r"[a-z]+")
# Business words for what a description says in another word: a sign-up is a registration, a cart a basket.
_SAME = {"signup": "register", "enrolment": "register", "enrollment": "register", "cart": "basket"}


def descriptions(
    entities: Iterable[Entity], explained: frozenset[str], names: Iterable[str]
) -> dict[str, str]:
    """A lemma (or a stem followed by "*") → the one entity whose description's first sentence says it;
    never a name's (the names are matched as names: "payments-team" is an owner, not a payment)."""
    named = {lemma(n) for n in names}
    said: dict[str, set[str]] = {}
    for entity in entities:
        first = re.split(r"(?<=[.!?])\s", entity.description.strip(), maxsplit=1)[0]
        for word in _WORD.findall(first.lower().replace("_", " ")):
            if len(word) < 4 or word in explained or lemma(word) in _BOILERPLATE | named:
                continue
            stem = lemma(word)
            # A short verb's participle ("created", "changed") is said of anything; a longer one's stem
            # is its nouns' too ("captured": captures).
            long = len(stem) >= STEM
            keys = ([stem] if long or not word.endswith("ed") else []) + ([f"{stem[:STEM]}*"] if long else [])
            for key in keys:
                said.setdefault(key, set()).add(entity.name)
    return {key: next(iter(named)) for key, named in said.items() if len(named) == 1}


def described_as(word: str, described: Mapping[str, str], *, stems: bool = True) -> str | None:
    if "_" in word:  # an identifier ("customer_segments"): a name of its own, not a description
        return None
    said = lemma(word)
    for stem in dict.fromkeys([said, _SAME.get(said, said)]):  # its own word first
        if stem in described:
            return described[stem]
        if stems and len(stem) >= STEM and f"{stem[:STEM]}*" in described:
            return described[f"{stem[:STEM]}*"]
    return None


def otherwise_named(
    tokens: Sequence[str], i: int, vocab: Vocabulary, placed: Callable[[int], bool] | None
) -> tuple[str, int] | None:
    """The entity the words from `i` name otherwise, and how many words: where `placed(j)` says a name
    goes, cut short or described; with no `placed`, anywhere, only cut short, and never a short word
    that is English too ("add" is no address)."""
    for n in (3, 2, 1):
        words = tuple(tokens[i : i + n])
        if len(words) < n or set(words) & vocab.explained:
            continue
        if placed is None:
            short = all(len(w) >= 4 or w[0] not in VOWELS for w in words)
            name = abbreviation_of(words, vocab.names) if short else None
        elif placed(i) or placed(i + n - 1):
            # one word, or one written apart: "sign-ups", "sign ups"
            described = described_as("".join(words), vocab.described) if n <= 2 else None
            name = abbreviation_of(words, vocab.names) or described
        else:
            continue
        if name:
            return name, n
    return None


def named_anywhere(tokens: Sequence[str], vocab: Vocabulary) -> list[str]:
    """The entity a question that names none names otherwise, anywhere in it ("has the table with card
    captures caught up?", "how old is the newest row in pmt"): only a message with a cue, only one
    entity, and only by the description's own words ("the registry creds" are no registrations)."""
    alone = [t for t in tokens if t.isalnum()]
    if len(alone) == 1 and (one := described_as(alone[0], vocab.described, stems=False)):
        return [one]  # the whole message: "checkouts?", "signups… 👀"
    cues = lemmas_of(vocab.cues)
    said = " ".join(tokens)  # "checkouts up to date?": a cue in a phrase
    if not any(lemma(t) in cues or is_cue(t, vocab.cues) for t in tokens) and not any(
        p.search(said) for p in vocab.phrases
    ):
        return []
    for i in range(len(tokens)):
        if not said_as_a_word(tokens, i) and (short := otherwise_named(tokens, i, vocab, None)):
            return [short[0]]
    said_apart = ["".join(pair) for pair in pairwise(tokens)]  # "sign-ups"
    found = {
        e
        for t in [*tokens, *said_apart]
        if len(t) >= 4 and (e := described_as(t, vocab.described, stems=False))
    }
    return list(found) if len(found) == 1 else []
