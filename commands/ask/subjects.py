"""What a question is about: entities (by name, alias, plural, spaced name, DAG, typo), a column
(`purchase.currency`, or a column name only one entity has), a declared migration — all resolved
against the catalog, the allowlist. A word that looks like a name but resolves to nothing is kept as
`unknown`, so the answer can say "no entity X" instead of guessing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.foundation.catalog import Catalog
from commands.ask.words import STOPWORDS

TYPO_SCORE = 85.0  # rapidfuzz ratio: "paymnt"→payment, "delivry adress"→delivery_address, not "usage"→users
MIN_TYPO_LENGTH = 5  # shorter words are too often another word than a misspelt name
_TOKEN = re.compile(r"[a-z0-9_.]+")


@dataclass(frozen=True)
class Subjects:
    entities: tuple[str, ...] = ()  # in the order they were named, each once
    column: str | None = None
    column_of: tuple[str, ...] = ()  # the entities that have `column`, when no entity was named with it
    migration: str | None = None
    unknown: str | None = None  # the first word that looked like a name and is none


@dataclass(frozen=True)
class Vocabulary:
    names: Mapping[str, str]  # every way to name an entity → its name
    columns: Mapping[str, tuple[str, ...]]  # column → the entities that have it
    migrations: Mapping[str, str]  # migration name or title words → migration name
    explained: frozenset[str]  # words the intents use: never taken for an unknown name

    @classmethod
    def of(cls, catalog: Catalog, migrations: Mapping[str, str], cue_words: Iterable[str]) -> Vocabulary:
        """`migrations`: name → title."""
        names: dict[str, str] = {}
        columns: dict[str, list[str]] = {}
        for entity in catalog.entities.values():
            for way in (entity.name, *entity.aliases, f"{entity.name}s", f"{entity.name}es"):
                names.setdefault(way.replace(" ", "_"), entity.name)
            if entity.dag:
                names.setdefault(entity.dag, entity.name)
            for column in entity.columns:
                columns.setdefault(column.lower(), []).append(entity.name)
        by_migration = {name: name for name in migrations}
        by_migration |= {title.lower().replace(" ", "_"): name for name, title in migrations.items() if title}
        return cls(
            names, {c: tuple(e) for c, e in columns.items()}, by_migration, frozenset(cue_words) | STOPWORDS
        )


def resolve(text: str, vocab: Vocabulary) -> Subjects:
    tokens = [t.strip(".") for t in _TOKEN.findall(text) if t.strip(".")]
    entities: list[str] = []
    column: str | None = None
    bare_columns: list[str] = []
    migration: str | None = None
    unknown: str | None = None
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if "." in token:  # entity.column
            head, _, tail = token.partition(".")
            owner = _name(head, vocab.names)
            if owner and tail in vocab.columns and owner in vocab.columns[tail]:
                entities.append(owner)
                column = tail
                i += 1
                continue
        found, used = _phrase(tokens, i, vocab)
        if found is not None:
            kind, name = found
            if kind == "migration":
                migration = name
            else:
                entities.append(name)
            i += used
            continue
        if token in vocab.columns and token not in vocab.explained:
            bare_columns.append(token)
        elif unknown is None and _name_like(token, vocab):
            unknown = token
        i += 1
    named = tuple(dict.fromkeys(entities))
    if column is None and bare_columns:
        column = bare_columns[0]
        having = vocab.columns[column]
        return Subjects(named, column, () if set(named) & set(having) else having, migration, unknown)
    return Subjects(named, column, (), migration, unknown)


def _phrase(tokens: Sequence[str], i: int, vocab: Vocabulary) -> tuple[tuple[str, str] | None, int]:
    """The longest run of words from `i` that names an entity or a migration, exactly or misspelt."""
    for exact in (True, False):
        for n in (3, 2, 1):
            words = tokens[i : i + n]
            if len(words) < n or (n > 1 and any(w in STOPWORDS for w in words)):
                continue
            key = "_".join(words)
            if not exact and (len(key) < MIN_TYPO_LENGTH or (n == 1 and key in vocab.explained)):
                continue
            for kind, table in (("migration", vocab.migrations), ("entity", vocab.names)):
                name = table.get(key) if exact else _typo(key, table)
                if name is not None:
                    return (kind, name), n
    return None, 1


def _name(word: str, names: Mapping[str, str]) -> str | None:
    return names.get(word) or (_typo(word, names) if len(word) >= MIN_TYPO_LENGTH else None)


def _typo(word: str, table: Mapping[str, str]) -> str | None:
    match = process.extractOne(word, list(table), scorer=fuzz.ratio, score_cutoff=TYPO_SCORE)
    return None if match is None else table[match[0]]


def _name_like(token: str, vocab: Vocabulary) -> bool:
    return len(token) >= 3 and not token.isdigit() and token not in vocab.explained and token.isascii()
