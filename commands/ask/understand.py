"""From plain words to a `Question`: which intent (the one whose cues match most; ties go to the
earlier intent in `INTENTS`), about what (commands/ask/subjects.py), or declined (writes and ad-hoc
analysis are not the bot's to answer). Pure and fast: no I/O."""

from __future__ import annotations

import re
from collections.abc import Sequence

from commands.ask.intent import Intent, Question
from commands.ask.subjects import Subjects, Vocabulary, is_cue, resolve

_WORD = re.compile(r"[a-z0-9_]+")
_BACK = re.compile(
    r"\b(it|its|it's|that|this|them|they|their|same|there)\b"
)  # refers to the thread's subject
_ONLY_A_NAME = re.compile(r"^(and|what about|how about)\b")
# What the bot never answers from its facts: changes to data, and numbers it would have to compute.
DECLINES = (
    (
        re.compile(
            r"\b(delete|truncate|insert|grant|revoke|alter|remove|wipe|purge)\b|"
            r"\bdrop (table|schema|column|database|view|the)\b"
        ),
        "a change to data",
    ),
    (
        re.compile(
            r"\b(revenue|average|avg|median|sum of|total amount|top \d+|biggest|largest|per (country|city|"
            r"user|customer)|by (country|city|user|customer)|conversion|churn|forecast|predict|profit|"
            r"margin)\b|"
            # a count with a filter: "how many users from Berlin", "how many orders with status …"
            r"\bhow many (?!rows|records)\S+ (from|in|with|where|by|per)\b"
        ),
        "an analysis of the data itself",
    ),
)


def understand(text: str, vocab: Vocabulary, intents: Sequence[Intent]) -> Question:
    subjects = resolve(text, vocab)
    for pattern, what in DECLINES:
        if pattern.search(text):
            return Question(text, None, subjects, declined=what)
    words = _WORD.findall(text)
    scores = [(*_score(intent, text, words, vocab.cues), -i, intent.name) for i, intent in enumerate(intents)]
    best, _, _, name = max(scores)
    return Question(text, name if best > 0 else None, subjects)


def follow_up(question: Question, intent: str, remembered: Subjects) -> Question:
    """A message in a thread the bot answered: "and purchase?" keeps the thread's intent for the new
    subject, "and who owns it?" keeps its subject for the new intent. "thanks!" stays no question,
    and "is anything stale?" is about everything, not the thread's entity."""
    subjects = question.subjects
    if question.declined:
        return question
    if question.intent is None:
        names_one = _named(subjects) or (subjects.unknown is not None and _ONLY_A_NAME.match(question.text))
        return Question(question.text, intent, subjects) if names_one else question
    if _named(subjects) or subjects.unknown is not None or not _BACK.search(question.text):
        return question
    return Question(question.text, question.intent, remembered)


def _named(subjects: Subjects) -> bool:
    return bool(subjects.entities or subjects.migration or subjects.column)


def _score(intent: Intent, text: str, words: Sequence[str], cues: frozenset[str]) -> tuple[int, int]:
    """Cue matches (a weak phrasing counts half), and (negated) where the first strong one is: of two
    intents as well matched, the one asked first ("is payment fresh and did its DAG run?")."""
    places = [m.start() for p in intent.phrases if (m := p.search(text))]
    offset = 0
    for word in words:
        offset = text.find(word, offset)
        if is_cue(word, intent.words) and (word in intent.words or word not in cues):
            places.append(offset)
    weak = sum(1 for p in intent.weak if p.search(text))
    return 2 * len(places) + weak, -min(places, default=len(text))
