"""Which intents fit what is named: a migration's rows, failures and stalls are the migration's, a
column has tests and a meaning, not runs; and the migration an entity's name stands for. Pure: no I/O."""

from __future__ import annotations

import re
from dataclasses import replace

from commands.ask.subjects import Subjects, Vocabulary

# What counts an entity's rows, beside its tests or a column's meaning; bare "rows" there are a test's
# failing rows or those a column is empty on ("which tests fail on payment, and how many rows?").
_COUNTED = re.compile(
    r"\brow ?counts?\b|\bvolumes?\b|\bhow many (?!rows?\b)\w+|\brows? (?:in|of|does|do|has|have)\b|"
    r"\bloaded\b|\bnumber of\b"
)


def fitting(picked: list[str], subjects: Subjects, text: str, *, migration: bool, others: bool) -> list[str]:
    """The intents that fit what is asked about: a migration's rows, failures and stalls are the
    migration's ("is the cassandra copy stuck?"), unless `others` (a DAG, a test) are named too;
    a column has tests, not runs ("is not_null on payment.id failing?"); a test named has failing
    rows, not a volume ("how many rows fail non_negative?"), and so are rows said after a test or a
    column's meaning was asked about, unless they are counted as an entity's (`_COUNTED`)."""
    if migration and picked:  # besides, in a clause of its own: "… and is an incident open about it?"
        besides = [p for p in picked if p == "incidents"] if len(picked) > 1 else []
        return list(dict.fromkeys([*picked, "migrations"])) if others else ["migrations", *besides]
    tested = {"runs", "volume"} if subjects.test else {"runs"} if subjects.column else set()
    if set(picked) & tested:
        picked = list(dict.fromkeys("tests" if p in tested else p for p in picked))
    if picked[:1] in (["tests"], ["meaning"]) and "volume" in picked and not _COUNTED.search(text):
        picked = [p for p in picked if p != "volume"]
    return picked


def migration_of(subjects: Subjects, vocab: Vocabulary, *, keep: bool) -> Subjects:
    """The one migration of the entities named, taking their place (beside them if `keep`: "is the
    address migration done, and are addresses fresh?"); else the subjects as they are."""
    about = {m for m in set(vocab.migrations.values()) if any(e in m for e in subjects.entities)}
    if len(about) != 1:
        return subjects
    return (
        replace(subjects, migration=about.pop())
        if keep
        else Subjects(migration=about.pop(), owner=subjects.owner)
    )


def only_migration(subjects: Subjects) -> bool:
    return subjects.migration is not None and not subjects.entities and not subjects.column
