"""Which intents fit what is named: a migration's rows, failures and stalls are the migration's, a
column has tests and a meaning, not runs; and the migration an entity's name stands for. Pure: no I/O."""

from __future__ import annotations

from dataclasses import replace

from commands.ask.subjects import Subjects, Vocabulary


def fitting(picked: list[str], subjects: Subjects, *, migration: bool, others: bool) -> list[str]:
    """The intents that fit what is asked about: a migration's rows, failures and stalls are the
    migration's ("is the cassandra copy stuck?"), unless `others` (a DAG, a test) are named too;
    a column has tests, not runs ("is not_null on payment.id failing?"); a test named has failing
    rows, not a volume ("how many rows fail non_negative?")."""
    if migration and picked:  # besides, in a clause of its own: "… and is an incident open about it?"
        besides = [p for p in picked if p == "incidents"] if len(picked) > 1 else []
        return list(dict.fromkeys([*picked, "migrations"])) if others else ["migrations", *besides]
    tested = {"runs", "volume"} if subjects.test else {"runs"} if subjects.column else set()
    if set(picked) & tested:
        picked = list(dict.fromkeys("tests" if p in tested else p for p in picked))
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
