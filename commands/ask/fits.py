"""Which intents fit what is named: a migration's rows, failures and stalls are the migration's, a
column has tests and a meaning, not runs; the migration an entity's name stands for; and, with nothing
named, when a question is about all of the data (`about_everything`). Pure: no I/O."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace

from commands.ask.about import SENTENCE, about_data
from commands.ask.cues import guesses, picked_intents, positioned, strong_places
from commands.ask.declines import ANALYSIS
from commands.ask.intent import Intent
from commands.ask.subjects import Subjects, Vocabulary, words_of
from commands.ask.typos import abbreviation_of
from commands.ask.words import ALL_WELL, THE_DATA, TROUBLE, overall_phrased

# What counts an entity's rows, beside its tests or a column's meaning; bare "rows" there are a test's
# failing rows or those a column is empty on ("which tests fail on payment, and how many rows?").
# Not rows a test fails on: "how many transactions are affected?", "how many failing rows?"
_COUNTED = re.compile(
    r"\brow ?counts?\b|\bvolumes?\b|\bhow many (?!(?:failing |failed |bad |broken |invalid )?rows?\b)\w+\b"
    r"(?! (?:are|were|is|got) (?:affected|impacted))"
    r"|(?<!\ba )(?<!\bone )(?<!\beach )\brows? (?:in|of|does|do|has|have)\b"  # not "what is a row of it"
    r"(?! (?:it|they|that|this) (?:catch|flag|fail|reject|find))|"
    r"\brows (?:it|they|the table) (?:has|have|holds?)\b|"  # "what does X mean, and how many rows it has?"
    r"\b(?:loaded|landed|arrived|ingested)\b|\bnumber of\b"
)


# Tests said to run: "did the payment tests run last night?", "the checks ran ok?" (not "run the tests")
_TESTS_RUN = re.compile(r"\b(?:tests?|checks|validations?)\b(?: \w+){0,2}? (?:run|ran|running)\b")


def tests_run(text: str) -> bool:
    return _TESTS_RUN.search(text) is not None


# An entity counted ("how many customers", "number of txns"), and how a volume is read: whole, per
# day, against the day before.
WHY = re.compile(r"\b(why|how come|what happened|what caused|root cause|reason)\b")
_COUNTING = re.compile(r"\b(?:how many|number of|count of)\s+(\w+)")
_AS_A_VOLUME = re.compile(
    r"\b(?:in total|so far|till now|until now|on average|average|avg|per (?:day|week|month|hour)|daily|"
    r"(?:vs\.?|versus|compared to) (?:the day before|yesterday|last week|the week before)|"
    # a count over a stretch of time: "how many payments in Q1 vs Q4?", "… in December", "… in 2026"
    r"(?:in|during|for) (?:q[1-4]|h[12]|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*|\d{4}))\b"
)


def counted(text: str, decline: re.Pattern[str], names: Mapping[str, str]) -> bool:
    """A count of an entity's rows, whole or per day ("how many customers in total", "how many txns
    yesterday vs the day before"): its volume, not an analysis, nor an opinion, whatever `decline`
    would have read in those words."""
    asked = _COUNTING.search(text)
    entity = asked and (asked.group(1) in names or abbreviation_of((asked.group(1),), names))
    return bool(entity) and not decline.search(_AS_A_VOLUME.sub(" ", text))


# A yes/no question about a column, or what it is, asks what it is: "is refunded_cents the sum of all
# refunds?", "what's refunded_cents exactly, the latest refund or the sum?", "refunded_cents – is it the
# total of all refunds?", "could you clarify what refunded_cents contains, the total or the last one?", "what
# exactly is in refunded_cents" (not "what's the sum of it").
_DEFINES = re.compile(
    r"^(?:is|are|does|do)\b|"
    r"^(?:(?:can|could|would) (?:you|someone) )?(?:please |pls )?(?:(?:clarify|explain|tell me|describe) )?"
    r"what(?:'?s| is| are| does)?(?: exactly)?(?: is)?(?: in)? (?:the )?(?:column )?([\w.]+)|"
    r"^(?:the )?([\w.]+)\s*[-–—:,]?\s*(?:is it|are they|does it|is that)\b"
)


def defines(text: str, column: str) -> bool:
    asked = _DEFINES.match(text)
    return asked is not None and (asked.group(1) or asked.group(2) or column).rpartition(".")[2] == column


def defined(parts: list[str], clauses: list[str], column: str | None, analysis: re.Pattern[str]) -> bool:
    """An analysis' words said of what a column is: "what's in refunded_cents? is it the sum of all
    refunds?", in a clause of its own naming it ("what columns does purchase have, and is amount_cents
    the basket total?") or in a guess at it ("what does refunded_cents hold — the total of all refunds,
    or the last one?"); not in more asked after it ("… ? and the revenue per country for Q3")."""
    if column is None or not any(defines(c, column) for c in parts + [c for c in clauses if column in c]):
        return False
    said = [c for c in clauses if analysis.search(c) and defines(c, column)]
    return all(
        defines(p, column) or guesses(p) or any(c in p for c in said) for p in parts if analysis.search(p)
    )


# A subject's state asked for as a whole.
STATE_ASKED = re.compile(
    r"\b(?:news|updates?|the latest) (?:on|about|re|for|with|from)\b|\bupdate\?|"
    r"\b(?:summary|overview|rundown|picture) of\b|"
    r"\bstate of\b|\bstatus (?:of|on|for)\b|\bwhere (?:are we|do we stand|things stand|is it at)\b|"
    r"\bhow (?:are we|is it|'s it|are things|is \w+|are \w+) looking\b"
)
# What a question about the data's state asks, beside which an analysis' words are said in passing.
_STATE = frozenset(["freshness", "runs", "tests", "owner", "lineage", "incidents", "migrations", "history"])


def in_passing(decline: str, text: str, intents: Sequence[Intent], cues: frozenset[str], named: bool) -> bool:
    """An analysis' words said in passing of a question about the data's state: "is the revenue data
    current?", "were the orders fresh when I sent the forecast?", "where do the revenue numbers come
    from?" ask for facts the bot has, not for a number it would have to compute."""
    if decline != ANALYSIS:
        return False
    return bool(_STATE.intersection(picked_intents(text, intents, cues, generic=False, named=named)))


def fitting(
    picked: list[str], subjects: Subjects, text: str, *, migration: bool, others: bool, dag: bool
) -> list[str]:
    """The intents that fit what is asked about: a migration's rows, failures and stalls are the
    migration's ("is the cassandra copy stuck?"), unless `others` (a DAG, a test) are named too;
    a column has tests, not runs ("is not_null on payment.id failing?"), unless a DAG is named (`dag`);
    a test named has failing rows, not a volume ("how many rows fail non_negative?"), and so are rows said
    after a test or a column's meaning was asked about, unless counted as an entity's (`_COUNTED`)."""
    if subjects.named and set(picked) <= {"freshness"} and STATE_ASKED.search(text):
        return []  # "any update on payment?", "payments, where are we?": its status, freshness and all
    if migration and picked[:1] == ["owner"]:  # "who is behind the address migration?": its settings say
        return ["owner"]
    if migration and picked:  # besides, in a clause of its own: "… and is an incident open about it?"
        besides = [p for p in picked if p in ("incidents", "owner")] if len(picked) > 1 else []
        return list(dict.fromkeys([*picked, "migrations"])) if others else ["migrations", *besides]
    tested = (
        {"runs", "volume"} if subjects.test else {"runs"} if subjects.column or tests_run(text) else set()
    )
    tested -= (
        {"runs"} if dag else set()
    )  # a DAG named has runs: "is its test red, and amd_payment's last run?"
    if set(picked) & tested:
        picked = list(dict.fromkeys("tests" if p in tested else p for p in picked))
    # (after a whole entity's meaning its rows are its volume: "what columns does purchase have and how many
    # rows?", not after one column's: "what's the hours column, does it count ships at the berth?")
    # ... nor after "what a row is": one row is the grain ("does a partial refund create a new row?")
    one = (
        subjects.column
        or subjects.test
        or re.search(r"\bcolumn\b|\b(?:a|one|each|every|new|single) row\b", text)
    )
    after_one = picked[:1] == ["tests"] or (picked[:1] == ["meaning"] and one)
    if after_one and "volume" in picked and not _COUNTED.search(text):
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


# The findings an overall answer covers: asked about all at once, nothing named, it is the overall status.
_FINDINGS = frozenset(["freshness", "runs", "tests", "incidents"])
_EVERY = re.compile(
    r"\b(all|every|each) (the |our |of the |of our )?(datasets?|tables?|entities|entity|models?|data|dags?|"
    r"pipelines?|sources)\b|\bacross (the |our )?(project|board|warehouse|platform|stack)\b|\bwhatever\b|"
    r"\beverything\b"  # "everything loaded and passing?"
)


def about_everything(
    text: str,
    words: set[str],
    picked: list[str],
    intents: Sequence[Intent],
    cues: frozenset[str],
    *,
    vocab: Vocabulary,
) -> bool:
    """Nothing named, and either every kind of finding asked at once ("anything stale, failing or
    stuck?"), or trouble asked about where only an entity's intent was heard ("on call handover:
    anything I need to know?" is no question about an owner), or only where the data is, in several
    places ("is anything busted in airflow or dbt?"; "in airflow" alone asks about its runs); or, about
    data, whether all is well ("did everything run fine?", "are the numbers safe to pull?")."""
    if any(p.search(text) for p in ALL_WELL) and about_data(text, words, intents, vocab):
        return True
    if len(_FINDINGS.intersection(picked)) > 1 and _EVERY.search(text):
        return True  # two kinds of finding, of everything: "are all datasets within SLA and tests green?"
    found = positioned(text)
    at = dict(found)
    places = {i.name: strong_places(i, text, found, cues) for i in intents if i.name in _FINDINGS}
    heard = [at for at in places.values() if at]
    if len(heard) >= 3 and len({p for at in heard for p in at}) >= 3:
        return True  # three kinds in three words: "failed" alone is a run's and a test's
    trouble = bool(words & TROUBLE) or overall_phrased(text)
    entity_only = {i.name for i in intents if i.subject == "entity"}
    cued = {i.name: strong_places(i, text, found, cues) for i in intents if i.name in picked}
    only_places = len(words & THE_DATA) > 1 and all(at.get(p) in THE_DATA for c in cued.values() for p in c)
    return trouble and bool(picked) and (set(picked) <= entity_only or only_places)


# a source that stopped, put forward as a cause of lateness: "why not updated since wednesday? is it the
# loading job which failed, or did the source stop sending the changes?"
_SOURCE_STOPPED = re.compile(
    r"\b(?:sources?|upstream|events?|feed)\b[^.?!]{0,20}?\b(?:stop(?:ped|s)?|not (?:arriving|coming|sending)|"
    r"(?:is|are|was|were) (?:down|empty|missing))\b"
)


def source_stopped(text: str) -> bool:
    return _SOURCE_STOPPED.search(text) is not None


def why_late(text: str, intents: Sequence[Intent], cues: frozenset[str]) -> bool:
    """The why asked is of lateness: "… why is it so late?" (not "why did amd_payment fail, and is it
    fresh?")."""
    said = [c for c in SENTENCE.split(text) if WHY.search(c)]
    return any(picked_intents(c, intents, cues, generic=False, named=True)[:1] == ["freshness"] for c in said)


def by_source(text: str, vocab: Vocabulary) -> bool:
    """The migration is named by the name of one of its sources only: a platform people name daily."""
    said = [w for t in words_of(text) for w in t.split(".") if w in vocab.migrations]  # amd.<its table>
    return bool(said) and set(said) <= vocab.sources
