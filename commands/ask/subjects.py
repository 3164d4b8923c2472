"""What a question is about: entities (by name, alias, plural, spaced name, DAG, typo), a column
(`purchase.currency`, or a column name only one entity has), a declared migration — all resolved
against the catalog, the allowlist. A word that looks like a name but resolves to nothing is kept as
`unknown`, so the answer can say "no entity X" instead of guessing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from bot.foundation.catalog import Catalog
from bot.foundation.migration_specs import MigrationSpec
from commands.ask.described import descriptions, named_anywhere, otherwise_named
from commands.ask.lemmas import WORD, lemma
from commands.ask.lineage_graph import feeders
from commands.ask.places import BREAK, in_passing, name_like, said_as_a_word
from commands.ask.typos import typo_of
from commands.ask.words import STOPWORDS

MIN_TYPO_LENGTH = 5  # shorter words are too often another word than a misspelt name
# Punctuation between words is kept as a token of its own: no name runs across it ("the exec meeting:
# data all good?" names no "meeting data").
_TOKEN = re.compile(r"[a-z0-9_.]+|[,:;?!]")


@dataclass(frozen=True)
class Subjects:
    entities: tuple[str, ...] = ()  # in the order they were named, each once
    column: str | None = None
    column_of: tuple[str, ...] = ()  # the entities that have `column`, when no entity was named with it
    migration: str | None = None
    unknown: str | None = None  # the first word that looked like a name and is none
    owner: str | None = None  # an entity owner named ("anything failing for payments-team?")
    test: str | None = None  # a dbt test named, by its name or its generic test's ("non_negative")
    dag: str | None = None  # a DAG named that no entity declares ("did amd_nightly fail?")
    in_passing: bool = False  # only entities named in passing: "my salary payment", "a customer says"

    @property
    def named(self) -> bool:
        """A known subject is named: an entity, a column, a migration or a DAG (an owner only filters)."""
        return bool(self.entities or self.migration or self.column or self.dag)


@dataclass(frozen=True)
class Vocabulary:
    names: Mapping[str, str]  # every way to name an entity → its name
    columns: Mapping[str, tuple[str, ...]]  # column → the entities that have it
    migrations: Mapping[str, str]  # migration name or title words → migration name
    cues: frozenset[str]  # the intents' cue words
    explained: frozenset[str]  # words known not to name an entity: never reported as an unknown name
    owners: Mapping[tuple[str, ...], str] = field(default_factory=dict)  # an owner's words → the owner
    # How the project names its DAGs ("amd_"): a word named so is a DAG the orchestrator runs that no
    # entity declares ("is amd_slow stuck?"), not a misnamed entity.
    dag_prefixes: tuple[str, ...] = ()
    tests: frozenset[str] = frozenset()  # the project's test names, and its generic tests' with a "_"
    described: Mapping[str, str] = field(default_factory=dict)  # commands/ask/described.py
    # A migration's sources that name it ("the cassandra copy"); alone, a word everyone says ("Snowflake").
    sources: frozenset[str] = frozenset()
    # How freshness is asked in a phrase, not a word ("checkouts up to date?"); not every intent's phrases:
    # "where does the fruit basket come from?" is no lineage question about baskets
    phrases: tuple[re.Pattern[str], ...] = ()

    def dag_like(self, word: str) -> bool:
        return word.startswith(self.dag_prefixes) and word not in self.dag_prefixes

    @classmethod
    def of(
        cls,
        catalog: Catalog,
        migrations: Sequence[MigrationSpec],
        cue_words: Iterable[str],
        cue_phrases: Iterable[re.Pattern[str]] = (),
    ) -> Vocabulary:
        names: dict[str, str] = {}
        columns: dict[str, list[str]] = {}
        for entity in catalog.entities.values():
            for way in (entity.name, *entity.aliases, f"{entity.name}s", f"{entity.name}es"):
                names.setdefault(way.replace(" ", "_"), entity.name)
            if entity.dag:
                names.setdefault(entity.dag, entity.name)
            for column in entity.columns:
                columns.setdefault(column.lower(), []).append(entity.name)
        for way, fed in feeders(catalog).items():  # after the entities': their own names come first
            names.setdefault(way, fed)
        by_migration = {m.name: m.name for m in migrations}
        by_migration |= {m.title.lower().replace(" ", "_"): m.name for m in migrations if m.title}
        # A migration's source ("the cassandra copy") names it, unless two migrations share the source.
        sourced = [(s.name, m.name) for m in migrations for s in m.sources]
        shared = {s for s, _ in sourced if sum(1 for t, _ in sourced if t == s) > 1}
        naming = {s: m for s, m in sourced if s not in shared and s not in by_migration}
        by_migration |= naming
        # Names that are no entity's: the dbt project's, the migrations' words and their sources'.
        known = {str(n.get("package_name", "")) for n in catalog.nodes.values()}
        known |= {
            w for m in migrations for w in _TOKEN.findall(f"{m.name} {m.title}".lower().replace("_", " "))
        }
        known |= {s.name for m in migrations for s in m.sources} | {m.name.lower() for m in migrations}
        # a dbt source's name is where data comes from, never an entity asked about: "the raw events source"
        known |= {
            str(n.get(key, "")).lower() for n in catalog.sources.values() for key in ("source_name", "name")
        }
        cues = frozenset(cue_words)
        entities = catalog.entities.values()
        owners = {tuple(w): e.owner for e in entities if e.owner and (w := words_of(e.owner))}
        prefixes = {e.dag.split("_")[0] + "_" for e in catalog.entities.values() if e.dag and "_" in e.dag}
        tests = {
            name.lower()
            for n in catalog.nodes.values()
            if n.get("resource_type") == "test"
            for name in (str(n.get("name", "")), str((n.get("test_metadata") or {}).get("name", "")))
            if "_" in name
        }
        # an owner's handle, said alone, is no remark of unknown words: "lena.m"
        explained = cues | STOPWORDS | known | tests | {w for o in owners for t in o for w in WORD.findall(t)}
        return cls(
            names,
            {c: tuple(e) for c, e in columns.items()},
            by_migration,
            cues,
            explained,
            owners,
            tuple(sorted(prefixes)),
            frozenset(tests),
            descriptions(entities, explained, names),
            frozenset(naming),
            tuple(cue_phrases),
        )


def resolve(text: str, vocab: Vocabulary) -> Subjects:
    tokens = words_of(text)
    entities: list[str] = []
    column: str | None = None
    bare_columns: list[str] = []
    migration: str | None = None
    unknown: str | None = None
    owner: str | None = None
    test: str | None = None
    dag: str | None = None
    incidental: list[str] = []  # "a customer says …": one of them, named after the entities asked about

    def placed(j: int) -> bool:
        return name_like(tokens, j, known=vocab.explained, cues=vocab.cues, dag_like=vocab.dag_like)

    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token in BREAK or token in vocab.tests:
            test = test or (token if token in vocab.tests else None)
            # a test's name carries its model's, first: "not_null_purchase_user_id" tests purchase
            entities += [e for part in token.split("_") if (e := vocab.names.get(part))][:1]
            i += 1
            continue
        whose = _owner_at(tokens, i, vocab)
        if whose is not None:  # before entities: "payments-team" is no `payment`
            owner = owner or vocab.owners[whose]
            i += len(whose)
            continue
        if "." in token:  # entity.column, or schema.entity ("amd.users": the schema names nothing)
            head, _, tail = token.partition(".")
            entity = _name(head, vocab.names)
            if entity:  # its column, documented or not: "what is berth_usage.hours?"
                entities.append(entity)
                column = tail if entity in vocab.columns.get(tail, ()) else column
                i += 1
                continue
            if entity is None:
                tokens[i] = token = tail
        found, used = (None, 1) if said_as_a_word(tokens, i) else _phrase(tokens, i, vocab)
        if found is not None:
            kind, name = found
            if kind == "migration":
                migration = name
            elif in_passing(tokens, i, used):
                incidental.append(name)
            else:
                entities.append(name)
            i += used
            continue
        if token in vocab.columns and token not in vocab.explained:
            bare_columns.append(token)
        elif vocab.dag_like(token):
            dag = dag or token
        elif short := otherwise_named(tokens, i, vocab, placed):
            entities.append(short[0])
            i += short[1]
            continue
        elif unknown is None and placed(i):
            unknown = token
        i += 1
    if not (entities or incidental or column or bare_columns or migration or dag or owner):
        entities = named_anywhere(tokens, vocab)  # "has the table with card captures caught up?"
    named = tuple(dict.fromkeys(entities + incidental))
    passing = bool(incidental) and not (entities or column or bare_columns or migration or dag)
    unknown = None if dag else unknown  # "is amd_slow stuck for ages?": the DAG is what is asked about
    if column is None and bare_columns:
        column = bare_columns[0]
        having = vocab.columns[column]
        # a key several tables carry is its own table's first: user_id is user's, payment's by reference
        keyed = [e for e in having if column == f"{e}_id"]
        of = () if set(named) & set(having) else tuple(keyed) or having
        # the entity that has the column is the one asked about: "what does valid_from mean for an address?
        # the day the customer moved?"
        named = tuple(sorted(named, key=lambda e: e not in having))
        return Subjects(named, column, of, migration, unknown, owner, test, dag, passing)
    return Subjects(named, column, (), migration, unknown, owner, test, dag, passing)


def its_table(subjects: Subjects, text: str) -> Subjects:
    """The one table that has the column named, for the entities named beside it in everyday words ("does
    captured_at mean when the customer clicked pay?" asks about `payment`); an entity named by its own name
    keeps its place, to be told it has no such column ("what does home_currency mean in purchase?")."""
    of, entities = subjects.column_of, subjects.entities
    by_name = any(re.search(rf"\b{re.escape(e)}s?\b", text) for e in entities)
    if len(of) == 1 and entities and of[0] not in entities and not by_name:
        return replace(subjects, entities=of)
    return subjects


def words_of(text: str) -> list[str]:
    """The words, and the punctuation no name runs across; a sentence's full stop is one ("… the old one.
    is the address data current?": the address is asked about, not someone's "one")."""
    tokens = []
    for token in _TOKEN.findall(text.lower()):
        if token.strip("."):
            tokens.append(token.strip("."))
        if token.endswith(".") and len(token) > 1:
            tokens.append(".")
    return tokens


def _owner_at(tokens: Sequence[str], i: int, vocab: Vocabulary) -> tuple[str, ...] | None:
    """The words of the owner named from `i` (exactly: owners are people and teams, not typos)."""
    return next((words for words in vocab.owners if tuple(tokens[i : i + len(words)]) == words), None)


def _phrase(tokens: Sequence[str], i: int, vocab: Vocabulary) -> tuple[tuple[str, str] | None, int]:
    """The longest run of words from `i` that names an entity or a migration, exactly or misspelt."""
    for exact in (True, False):
        for n in (3, 2, 1):
            words = tokens[i : i + n]
            if len(words) < n or (n > 1 and any(w in STOPWORDS or w in BREAK for w in words)):
                continue
            key = "_".join(words)
            if not exact and (len(key) < MIN_TYPO_LENGTH or (n == 1 and key in vocab.explained)):
                continue
            if not exact and n == 1 and key.endswith(("ed", "ing")) and lemma(key) in vocab.names:
                continue  # "addressed the comments": a verb made of a name, not a misspelt name
            for kind, table in (("migration", vocab.migrations), ("entity", vocab.names)):
                name = table.get(key) if exact else typo_of(key, table)
                if name is not None:
                    return (kind, name), n
    return None, 1


def _name(word: str, names: Mapping[str, str]) -> str | None:
    return names.get(word) or (typo_of(word, names) if len(word) >= MIN_TYPO_LENGTH else None)
