"""From plain words to a `Question`: which intents (the best-matched in each asked clause,
commands/ask/cues.py) that fit what is named (commands/ask/subjects.py: a migration alone is asked
about as a migration, a column has tests and a meaning, not runs), or declined (writes and ad-hoc
analysis are not the bot's to answer, when asked, not when given as the asker's reason).

When no intent's cue matches, meaning decides, not silence: a message naming a known subject gets its
status summary (`status`); a data-status question about nothing in particular gets the overall status
(`overall`); a question pinned to a past moment is answered from history (`history`). Only a message
that names nothing known and carries no data-status cue is chatter. Then a model learned from the
labelled sets gives its reading where it is sure (commands/ask/opinion.py). Pure and fast: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from commands.ask.about import (
    ASKED,
    SENTENCE,
    THANKS,
    about_data,
    asked_first,
    asked_parts,
    at_work,
    everyday,
    meant,
    unexplained,
    untold,
)
from commands.ask.cues import picked_intents
from commands.ask.declines import ANALYSIS, DECLINES
from commands.ask.fits import (
    WHY,
    about_everything,
    by_source,
    counted,
    defined,
    fitting,
    in_passing,
    migration_of,
    only_migration,
    source_stopped,
    why_late,
)
from commands.ask.glossary import glossed
from commands.ask.intent import Intent, Question
from commands.ask.lemmas import WORD, lemma, lemmas, lemmas_of
from commands.ask.moments import asks_about_the_past
from commands.ask.opinion import second_opinion
from commands.ask.subjects import Subjects, Vocabulary, its_table, resolve
from commands.ask.words import (
    GENERIC,
    GENERIC_PHRASES,
    THE_DATA,
    TROUBLE,
    overall_phrased,
)

_EXCEPT = r"\b(?:besides|apart from|other than|except|aside from)\b"
_REST = r"\b(?:anything|something|what|whats|else|more)\b"
_OTHER_THAN = re.compile(rf"{_REST}.*{_EXCEPT}|{_EXCEPT}.*{_REST}")  # the rest asked about, not one thing
_A_COLUMN = re.compile(r"\b\w+ (?:column|field)s?\b")  # "the status column": a name, no how-is-it word
_REMARK = 0  # more words than this that are no name, cue or stopword, and no question: a remark
# Other things the cues of a message about a migration may be about: "failed dags or stalled migrations".
_OTHER_SUBJECTS = frozenset(lemma(w) for w in ("dag", "pipeline", "job", "test", "table", "model"))
_MIGRATION = frozenset(lemma(w) for w in ("migration", "migrate"))  # not "backfill": a table's too
_COLOURS = frozenset(["red", "green"])  # a DAG's colour is its last run's: "amd_payment red again?"
_NOW = re.compile(r"\b(now|currently|still|atm|at the moment|anymore|yet)\b")
_WAS = re.compile(r"\b(was|were|had|did)\b")
_SLA = re.compile(r"\bslas?\b")
_TELLS = re.compile(r"\s*(?:(?:and|but|so) )?(?:now )?(?:i|we|i'm|we're)\b")
_CLAUSES = re.compile(r"[,;?]|\band\b|\.\s")
# where a request joins a question: "who owns payment, and can you delete …", "… and pls rerun it"
_AND_ASK = re.compile(r",\s*(?:and|also|plus)\s+|\s+and\s+(?=(?:can|could|would|pls|please|just|also)\b)")
_LEG = frozenset(["leg", "legs", "export", "exports"])  # a source's part of it: "the cassandra export"
_NOT_THEN = {"runs", "tests", "incidents", "migrations", "volume", "lineage", "meaning"}  # not history


def understand(text: str, vocab: Vocabulary, intents: Sequence[Intent]) -> Question:
    said = glossed(text, vocab)  # "a tabela de purchase atualizou?": "a table de purchase up to date?"
    # what is said not to be asked names the subject still: "not asking why X is stale, just who owns it"
    question = second_opinion(_by_rules(meant(said), vocab, intents, named_in=said), vocab, intents)
    if question.intent == "overall":  # about nothing in particular: no word of it was a name (or in passing)
        kept = () if question.subjects.in_passing else question.subjects.entities
        return replace(question, subjects=replace(question.subjects, unknown=None, entities=kept))
    if question.intent == "meaning" and not question.also:  # "does captured_at mean when the customer paid?"
        return replace(question, subjects=its_table(question.subjects, question.text))
    return question


def _by_rules(text: str, vocab: Vocabulary, intents: Sequence[Intent], *, named_in: str = "") -> Question:
    subjects = asked_first(named_in or text, vocab)
    words = {lemma(w) for w in WORD.findall(text)}
    if subjects.migration and not words & (_cues_of("migrations", intents) | _LEG) and by_source(text, vocab):
        subjects = replace(subjects, migration=None)  # "Snowflake": the warehouse, and one source of many
    named = subjects.named or subjects.owner is not None
    # a column's name is no trouble word: "what does status mean on transactions, anything besides captured?"
    told = [w for w in WORD.findall(_A_COLUMN.sub(" ", text)) if w not in vocab.columns]
    if subjects.entities and set(map(lemma, told)) & TROUBLE and _OTHER_THAN.search(text):
        # "is anything else broken besides the addresses?": the rest of the data, all of it
        return Question(text, "overall", Subjects())
    if everyday(text, subjects, vocab):
        # a data word said of everyday things ("stale bread"); a name there is said in passing, also in a
        # thread the bot answered ("who ordered the pizzas? the orders are at the door")
        return Question(text, None, replace(subjects, in_passing=True))
    parts = asked_parts(text)
    cues = lemmas_of(vocab.cues)
    for pattern, what in DECLINES:
        if not any(pattern.search(part) for part in parts):
            continue
        clauses = [c.strip() for p in parts for c in _AND_ASK.split(p)[1:] if c and c.strip()]
        defining = what == ANALYSIS and defined(parts, clauses, subjects.column, pattern)
        passing = in_passing(what, text, intents, cues, named)
        if not (defining or passing or counted(text, pattern, vocab.names)):
            # "pause the address migration": the migration, not its table ("truncate amd.x for the
            # migration" names the table)
            if words & _MIGRATION and not re.search(r"\b\w+\.\w+|\btables?\b", text):
                subjects = migration_of(subjects, vocab, keep=False)
            declined = Question(text, None, subjects, declined=what)
            return _besides_request(text, what, vocab, intents) or declined
    generic = bool(words & GENERIC) or any(p.search(text) for p in GENERIC_PHRASES)
    picked = picked_intents(text, intents, cues, generic=generic, named=named)
    if not picked and words & _COLOURS and (subjects.test or any(map(vocab.dag_like, words))):
        picked = ["tests" if subjects.test else "runs"]  # a test's colour is its last result's
    if picked == ["owner"] and subjects.owner and not subjects.named and generic:
        picked = []  # how what someone owns is doing: "how's everything payments-team owns?", its status
    why = bool(WHY.search(text))
    asking = any(ASKED.search(part) for part in SENTENCE.split(text) if part)  # "payment: who owns it"
    # "payment: last run, tests, owner", "amd_user run status + user test results"
    asking = asking or (named and len(picked) > 1 and re.search(r",|\s[+&]\s", text) is not None)
    placed = bool(picked and subjects.unknown)  # "upstream of shipments": a cue, a name in its place
    remark = (
        not (named or placed)
        or len(unexplained(text, vocab, subjects.unknown)) > _REMARK
        or THANKS.match(text)
    )
    if at_work(text) or (not asking and remark):
        # a remark, not put to the bot: "merged the payment fix", "rerunning the payment backfill now"
        return Question(text, None, subjects)
    # everyday words only ("please update your tickets"), or an owner of nothing but everyday things ("who
    # owns the Q3 OKR doc?": owning is no data word of its own): not about data
    unowned = words - _cues_of("owner", intents) if picked == ["owner"] and not subjects.owner else words
    if picked and not named and not about_data(text, unowned, intents, vocab):
        picked = []
    # "was it fresh at 6, and did its DAG fail after?", "when did it last run, and was it fresh at 6?": a
    # clause asks the freshness of a past moment, the others the rest besides
    then_asked = "freshness" in picked and any(
        asks_about_the_past(c)
        and picked_intents(c, intents, cues, generic=generic, named=named) == ["freshness"]
        for c in _CLAUSES.split(text)
    )
    then = generic or set(picked) <= {"freshness", "owner"} or then_asked
    about = picked or named or about_data(text, words, intents, vocab)  # not "how was your weekend?"
    if (
        then
        and about
        and (then_asked or not set(picked) & _NOT_THEN)
        and asks_about_the_past(" ".join(parts))
    ):
        return Question(text, "history", subjects, also=_besides_then(text, picked, intents, cues))
    # "who is behind the address migration?" (not "who owns delivery_address? the migration will feed it")
    if picked == ["owner"] and subjects.entities and set(lemmas(" ".join(parts))) & _MIGRATION:
        subjects = migration_of(subjects, vocab, keep=False)
    # a migration only in the asker's reasons: "before I restart the migration job: is anything degraded?"
    kept = untold(text)
    asked_words = set(lemmas(kept))
    story = ("migrations" in picked or subjects.migration) and not asked_words & _cues_of(
        "migrations", intents
    )
    if story and not resolve(kept, vocab).migration:
        picked, subjects = [p for p in picked if p != "migrations"], replace(subjects, migration=None)
    if picked and picked[0] == "migrations" and subjects.entities:
        # "the address history migration", "its cassandra leg" name no entity, unless asked its freshness
        subjects = migration_of(subjects, vocab, keep="freshness" in picked[1:])
        if not subjects.migration:  # an entity with no migration: its validations are its tests
            others = [i for i in intents if i.name != "migrations"]
            picked = picked_intents(text, others, cues, generic=generic, named=named)
    about_a_migration = only_migration(subjects) or (
        not (subjects.entities or subjects.column) and bool(asked_words & _cues_of("migrations", intents))
    )
    if about_a_migration:  # "checksum failures on the migration": its words, no entity's name
        declared = set(vocab.migrations.values())  # "the migration", where there is one: that one
        only = declared.pop() if len(declared) == 1 and not subjects.migration else subjects.migration
        subjects = replace(subjects, unknown=None, migration=only)
    picked = fitting(
        picked,
        subjects,
        text,
        migration=about_a_migration,
        others=bool(words & _OTHER_SUBJECTS),
        dag=any(map(vocab.dag_like, words)),
    )
    nothing_named = not named and not subjects.unknown
    if nothing_named and about_everything(text, words, picked, intents, cues, vocab=vocab):
        return Question(text, "overall", subjects, why=why)
    # its causes are its DAG's runs: "why stale? did the dag die?", "is the DAG failing, or are the events
    # not arriving? why is it so late?"
    if why and "freshness" in picked and (picked[0] == "freshness" or why_late(text, intents, cues)):
        causes = ("runs", "freshness", "lineage") if source_stopped(text) else ("runs", "freshness")
        picked = ["freshness", *(p for p in picked if p not in causes)]
    if picked:
        return Question(text, picked[0], subjects, also=tuple(picked[1:]), why=why)
    if subjects.column and not generic:  # "is registered_at UTC?": a column asked about is its meaning
        return Question(text, "meaning", subjects, why=why)
    if named and not subjects.in_passing:  # not "any data issues we should tell customers about?"
        return Question(text, "migrations" if only_migration(subjects) else "status", subjects, why=why)
    if subjects.unknown and asking:  # "the sales table?", "what's going on with the chargebacks table?"
        return Question(text, "status", subjects, why=why)
    on_data = bool(words & THE_DATA)
    trouble = bool(words & TROUBLE) or overall_phrased(text)
    if (trouble or (on_data and (generic or why))) and (on_data or not subjects.unknown):
        return Question(text, "overall", subjects, why=why)
    return Question(text, None, subjects)


def _besides_request(text: str, what: str, vocab: Vocabulary, intents: Sequence[Intent]) -> Question | None:
    """A question asked with a request the bot does not do ("is payment up to date? and can you delete
    its test rows"): the question is answered and the request turned down by name. Only where the rest
    asks for something in particular: "check payment and delete the duplicates" is the request."""
    pieces = [p for s in SENTENCE.split(text) for p in _AND_ASK.split(s) if p and p.strip()]
    rest = [p for p in pieces if not any(pattern.search(p) for pattern, _ in DECLINES)]
    if len(rest) == len(pieces) or not any(ASKED.search(p) for p in rest):
        return None
    asked = _by_rules(" ".join(rest), vocab, intents)
    if asked.declined or asked.intent in (None, "status", "overall"):
        return None
    return replace(asked, text=text, turned_down=what)


def _besides_then(
    text: str, picked: list[str], intents: Sequence[Intent], cues: frozenset[str]
) -> tuple[str, ...]:
    """What a question about a past moment asks besides: its owner ("was purchase late at 6? and who
    should I complain to"), the present too ("was payment fresh at 6am and is it fresh now?"), what
    else it asks after the moment ("… and how many rows did it have?")."""
    # not "were still", nor the asker's own now: "I made a chart then and now I am worried"
    # ... in what is asked, not the asker's story: "was purchase fresh at 9? my export was 9:05 and the
    # numbers look different now"
    asked = " ".join(asked_parts(text))
    now = any(_NOW.search(c) and not _WAS.search(c) and not _TELLS.match(c) for c in _CLAUSES.split(asked))
    # an SLA is the moment's measure, no owner asked: "when exactly did user cross its SLA?"
    owner = "owner" in picked_intents(_SLA.sub(" ", text), intents, cues, generic=False, named=True)
    return tuple(
        p for p in picked if (p == "owner" and owner) or p in _NOT_THEN or (p == "freshness" and now)
    )


def _cues_of(name: str, intents: Sequence[Intent]) -> frozenset[str]:
    return next((lemmas_of(i.words) for i in intents if i.name == name), frozenset())
