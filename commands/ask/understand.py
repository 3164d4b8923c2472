"""From plain words to a `Question`: which intents (the best-matched in each asked clause,
commands/ask/cues.py) that fit what is named (commands/ask/subjects.py: a migration alone is asked
about as a migration, a column has tests and a meaning, not runs), or declined (writes and ad-hoc
analysis are not the bot's to answer, when asked, not when given as the asker's reason).

When no intent's cue matches, meaning decides, not silence: a message naming a known subject gets its
status summary (`status`); a data-status question about nothing in particular gets the overall status
(`overall`); a question pinned to a past moment is answered from history (`history`). Only a message
that names nothing known and carries no data-status cue is chatter. Then a model learned from the
labelled sets (commands/ask/learned.py) gives its reading where it is sure. Pure and fast: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from commands.ask.cues import ASKING, picked_intents, positioned, strong_places
from commands.ask.fits import counted, defines, fitting, in_passing, migration_of, only_migration
from commands.ask.intent import Intent, Question
from commands.ask.learned import CHATTER, guess
from commands.ask.lemmas import WORD, lemma, lemmas, lemmas_of
from commands.ask.moments import asks_about_the_past
from commands.ask.subjects import Subjects, Vocabulary, resolve, words_of
from commands.ask.typos import is_cue
from commands.ask.words import (
    ALL_WELL,
    ANALYSIS,
    DECLINES,
    DOMAIN,
    DOMAIN_PHRASES,
    EVERYDAY,
    GENERIC,
    GENERIC_PHRASES,
    OVERALL_PHRASES,
    STOPWORDS,
    THE_DATA,
    TROUBLE,
)

_WHY = re.compile(r"\b(why|how come|what happened|what caused|root cause|reason)\b")
# Put to the bot: a question, or a request ("data status pls", "tell me about payment").
_ASKED = re.compile(
    r"\?|^(?:(?:hey|hi|hello|morning|gm|yo|ok|so)(?:\s+[\w-]+)?\W+)?(who|what|whats|when|whens|where|which|how|why|is|are|was|were|did|does|do|has|have|any|anything|"
    r"can|could|status|show|tell|give|list|check|describe|explain)\b|\b(pls|please|plz|tell me|show me)\b"
)
_THANKS = re.compile(r"^(thanks|thank you|thx|ty|cheers)\b")
_REMARK = 0  # more words than this that are no name, cue or stopword, and no question: a remark
# A message's parts: what it asks, and what only tells the context ("need it for the churn analysis",
# "before I publish the revenue deck"): a decline is for what is asked, not for the asker's reasons.
_SENTENCE = re.compile(r"(?<=[?!;])|\.\s|:\s|\s[–—-]+\s")
_REASON = re.compile(
    r"\b(?:before|because|so that|since|as|for) (?:i|we|they|finance|my|our)\b|"
    r"\b(?:for|in) the (?:\w+ ){0,2}(?:forecast|report|review|deck|meeting|presentation|analysis)\b"
)
# The findings an overall answer covers: asked about all at once, nothing named, it is the overall status.
_FINDINGS = frozenset(["freshness", "runs", "tests", "incidents"])
# Other things the cues of a message about a migration may be about: "failed dags or stalled migrations".
_OTHER_SUBJECTS = frozenset(lemma(w) for w in ("dag", "pipeline", "job", "test", "table", "model"))
_COLOURS = frozenset(["red", "green"])  # a DAG's colour is its last run's: "amd_payment red again?"
# How sure the learned model must be: chosen on dev sets it was not trained and the rules not tuned on.
SURE, OVERRULE, CERTAIN = 0.4, 0.7, 0.6  # CERTAIN: an overall question needs no listed data word
SILENCE = 0.9  # chatter though an entity is named: "who's got the slides for the customer workshop?"
_NOW = re.compile(r"\b(now|currently|still|atm|at the moment|anymore|yet)\b")
_AGED = re.compile(r"\b(?:days?|hours?|h|minutes?|mins?) (?:old|behind|late|stale)\b")
_CLAUSES = re.compile(r"[,;?]|\band\b|\.\s")
_NOT_THEN = {"runs", "tests", "incidents", "migrations", "volume", "lineage", "meaning"}  # not history


def understand(text: str, vocab: Vocabulary, intents: Sequence[Intent]) -> Question:
    question = _second_opinion(_by_rules(text, vocab, intents), vocab, intents)
    if question.intent == "overall":  # about nothing in particular: no word of it was a name
        return replace(question, subjects=replace(question.subjects, unknown=None))
    return question


def _second_opinion(question: Question, vocab: Vocabulary, intents: Sequence[Intent]) -> Question:
    """The learned model's reading (commands/ask/learned.py) where it is sure: more sure to overrule an
    intent the rules heard than to fill in where they heard none. It may name one intent, chatter where
    nothing known is named (or, very sure, where the rules heard no intent), the status of a subject
    named, the overall status of the data where nothing is named, a past moment's history. A decline,
    several intents heard at once and everyday talk the rules left silent stay the rules'."""
    if question.declined or question.also or _everyday(question.text, question.subjects, vocab):
        return question  # everyday things talked of: the rules' silence stands
    label, likely = guess(question.text, vocab)
    unclear = question.intent in (None, "status", "overall")  # no intent cue heard; a past moment is one
    if likely < (SURE if unclear else OVERRULE) or label == question.intent:
        return question
    named, text = question.subjects.named, question.text
    fits = {
        CHATTER: not named or (likely >= SILENCE and question.intent in (None, "status")),
        "status": named,
        "overall": not named and (likely >= CERTAIN or _about_data(text, set(lemmas(text)), intents, vocab)),
        "history": asks_about_the_past(text),
        "decline": False,
        "volume": not _AGED.search(text),  # "how many days old is purchase?" counts days, not rows
    }
    if not fits.get(label, True):
        return question
    if label == "migrations" and question.subjects.entities:  # "is the address move finished?"
        question = replace(question, subjects=migration_of(question.subjects, vocab, keep=False))
    return replace(question, intent=None if label == CHATTER else label, also=())


def _by_rules(text: str, vocab: Vocabulary, intents: Sequence[Intent]) -> Question:
    subjects = resolve(text, vocab)
    words = {lemma(w) for w in WORD.findall(text)}
    if subjects.migration and not words & _cues_of("migrations", intents) and _by_source(text, vocab):
        subjects = replace(subjects, migration=None)  # "Snowflake": the warehouse, and one source of many
    named = subjects.named or subjects.owner is not None
    if _everyday(text, subjects, vocab):
        return Question(text, None, subjects)  # a data word said of everyday things: "stale bread"
    parts = _asked_parts(text)
    cues = lemmas_of(vocab.cues)
    for pattern, what in DECLINES:
        if not any(pattern.search(part) for part in parts):
            continue
        defining = what == ANALYSIS and subjects.column is not None and defines(text, subjects.column)
        passing = in_passing(what, text, intents, cues, named)
        if not (defining or passing or counted(text, pattern, vocab.names)):
            return Question(text, None, subjects, declined=what)
    generic = bool(words & GENERIC) or any(p.search(text) for p in GENERIC_PHRASES)
    picked = picked_intents(text, intents, cues, generic=generic, named=named)
    if not picked and words & _COLOURS and any(map(vocab.dag_like, words)):
        picked = ["runs"]
    why = bool(_WHY.search(text))
    asking = any(_ASKED.search(part) for part in _SENTENCE.split(text) if part)  # "payment: who owns it"
    asking = asking or (named and len(picked) > 1 and "," in text)  # "payment: last run, tests, owner"
    placed = bool(picked and subjects.unknown)  # "upstream of shipments": a cue, a name in its place
    remark = (
        not (named or placed)
        or len(_unexplained(text, vocab, subjects.unknown)) > _REMARK
        or _THANKS.match(text)
    )
    if not asking and remark:
        return Question(text, None, subjects)  # a remark, not put to the bot: "merged the payment fix"
    if picked and not named and not _about_data(text, words, intents, vocab):
        picked = []  # everyday words only ("please update your tickets"): not about data
    # "was it fresh at 6, and did its DAG fail after?": the past moment first, the rest besides
    then_first = picked[:1] == ["freshness"] and asks_about_the_past(_CLAUSES.split(text)[0])
    then = generic or set(picked) <= {"freshness", "owner"} or then_first
    about = picked or named or _about_data(text, words, intents, vocab)  # not "how was your weekend?"
    if then and about and (then_first or not set(picked) & _NOT_THEN) and asks_about_the_past(text):
        return Question(text, "history", subjects, also=_besides_then(text, picked))
    if picked and picked[0] == "migrations" and subjects.entities:
        # "the address history migration", "its cassandra leg" name no entity, unless asked its freshness
        subjects = migration_of(subjects, vocab, keep="freshness" in picked[1:])
        if not subjects.migration:  # an entity with no migration: its validations are its tests
            others = [i for i in intents if i.name != "migrations"]
            picked = picked_intents(text, others, cues, generic=generic, named=named)
    about_a_migration = only_migration(subjects) or (
        not (subjects.entities or subjects.column) and bool(words & _cues_of("migrations", intents))
    )
    if about_a_migration:  # "checksum failures on the migration": its words, no entity's name
        subjects = replace(subjects, unknown=None)
    picked = fitting(
        picked, subjects, text, migration=about_a_migration, others=bool(words & _OTHER_SUBJECTS)
    )
    nothing_named = not named and not subjects.unknown
    if nothing_named and _is_overall(text, words, picked, intents, cues, vocab=vocab):
        return Question(text, "overall", subjects, why=why)
    if why and picked[:1] == ["freshness"]:  # its causes are its DAG's runs: "why stale? did the dag die?"
        picked = [p for p in picked if p != "runs"]
    if picked:
        return Question(text, picked[0], subjects, also=tuple(picked[1:]), why=why)
    if subjects.column and not generic:  # "is registered_at UTC?": a column asked about is its meaning
        return Question(text, "meaning", subjects, why=why)
    if named:
        return Question(text, "migrations" if only_migration(subjects) else "status", subjects, why=why)
    about_data = bool(words & THE_DATA)
    trouble = bool(words & TROUBLE) or any(p.search(text) for p in OVERALL_PHRASES)
    if (trouble or (about_data and (generic or why))) and (about_data or not subjects.unknown):
        return Question(text, "overall", subjects, why=why)
    return Question(text, None, subjects)


def _besides_then(text: str, picked: list[str]) -> tuple[str, ...]:
    """What a question about a past moment asks besides: its owner ("was purchase late at 6? and who
    should I complain to"), the present too ("was payment fresh at 6am and is it fresh now?"), what
    else it asks after the moment ("… and how many rows did it have?")."""
    now = any(_NOW.search(c) and not asks_about_the_past(c) for c in _CLAUSES.split(text))
    return tuple(p for p in picked if p == "owner" or p in _NOT_THEN or (p == "freshness" and now))


def _everyday(text: str, subjects: Subjects, vocab: Vocabulary) -> bool:
    """Everyday things asked about, and no data named but in passing: "my salary payment landed?" (not
    "is there an incident? my boss heard of one in the lift": the lift is not what is asked)."""
    words = {lemma(w) for part in _asked_parts(text) for w in WORD.findall(part)}
    named = (subjects.named and not subjects.in_passing) or subjects.owner is not None
    return not named and bool(words & EVERYDAY) and not any(map(vocab.dag_like, words))


def _unexplained(text: str, vocab: Vocabulary, unknown: str | None) -> set[str]:
    """The words of a remark that are no name (not even the one asked after), cue or stopword."""
    cues = lemmas_of(vocab.cues)
    words = {w for w in WORD.findall(text) if not w[0].isdigit()} - {unknown}  # "last 7 days", "9am"
    words = {w for w in words if w not in vocab.explained and w not in vocab.names}
    return {w for w in words if w not in vocab.columns and lemma(w) not in cues and not is_cue(w, cues)}


def _about_data(text: str, words: set[str], intents: Sequence[Intent], vocab: Vocabulary) -> bool:
    """A data-status cue: a word only data people use (or its typo), a DAG's name, or the phrasing of
    an intent that may be about nothing named (an owner's "who is …" asks about people in general)."""
    phrased = (p for i in intents if i.subject != "entity" for p in i.phrases)
    if words & (DOMAIN | THE_DATA) or any(map(vocab.dag_like, words)):
        return True
    if any(p.search(text) for p in (*DOMAIN_PHRASES, *phrased)):
        return True
    return any(is_cue(w, DOMAIN) for w in words - STOPWORDS)


def _by_source(text: str, vocab: Vocabulary) -> bool:
    """The migration is named by the name of one of its sources only: a platform people name daily."""
    said = [w for t in words_of(text) for w in t.split(".") if w in vocab.migrations]  # amd.<its table>
    return bool(said) and set(said) <= vocab.sources


def _cues_of(name: str, intents: Sequence[Intent]) -> frozenset[str]:
    return next((lemmas_of(i.words) for i in intents if i.name == name), frozenset())


def _asked_parts(text: str) -> list[str]:
    """The sentences that ask (each without its reasons), or all of them when none does."""
    parts = [_REASON.split(s)[0].strip() for s in _SENTENCE.split(text)]
    asking = [p for p in parts if p and (ASKING.match(p) or _ASKED.search(p))]
    return asking or [p for p in parts if p]


def _is_overall(
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
    if any(p.search(text) for p in ALL_WELL) and _about_data(text, words, intents, vocab):
        return True
    found = positioned(text)
    at = dict(found)
    places = {i.name: strong_places(i, text, found, cues) for i in intents if i.name in _FINDINGS}
    heard = [at for at in places.values() if at]
    if len(heard) >= 3 and len({p for at in heard for p in at}) >= 3:
        return True  # three kinds in three words: "failed" alone is a run's and a test's
    trouble = bool(words & TROUBLE) or any(p.search(text) for p in OVERALL_PHRASES)
    entity_only = {i.name for i in intents if i.subject == "entity"}
    cued = {i.name: strong_places(i, text, found, cues) for i in intents if i.name in picked}
    only_places = len(words & THE_DATA) > 1 and all(at.get(p) in THE_DATA for c in cued.values() for p in c)
    return trouble and bool(picked) and (set(picked) <= entity_only or only_places)
