"""From plain words to a `Question`: which intent (the one whose cues match most; ties go to the
earlier intent in `INTENTS`), about what (commands/ask/subjects.py), or declined (writes and ad-hoc
analysis are not the bot's to answer). Pure and fast: no I/O."""

from __future__ import annotations

import re
from collections.abc import Sequence

from rapidfuzz import fuzz

from commands.ask.intent import Intent, Question
from commands.ask.subjects import MIN_TYPO_LENGTH, TYPO_SCORE, Subjects, Vocabulary, resolve

_WORD = re.compile(r"[a-z0-9_]+")
# What the bot never answers from its facts: changes to data, and numbers it would have to compute.
DECLINES = (
    (
        re.compile(r"\b(delete|drop|truncate|insert|grant|revoke|alter|remove|wipe|purge)\b"),
        "a change to data",
    ),
    (
        re.compile(
            r"\b(revenue|average|avg|median|sum of|total amount|top \d+|biggest|largest|per (country|city|"
            r"user|customer)|by (country|city|user|customer)|from (berlin|munich|hamburg|vienna|zurich)|"
            r"conversion|churn|forecast|predict|profit|margin)\b"
        ),
        "an analysis of the data itself",
    ),
)


def understand(text: str, vocab: Vocabulary, intents: Sequence[Intent]) -> Question:
    subjects = resolve(text, vocab)
    for pattern, what in DECLINES:
        if pattern.search(text):
            return Question(text, None, subjects, declined=what)
    scores = [(_score(intent, text), -i, intent.name) for i, intent in enumerate(intents)]
    best, _, name = max(scores)
    return Question(text, name if best > 0 else None, subjects)


def follow_up(question: Question, intent: str, remembered: Subjects) -> Question:
    """A message in a thread the bot answered: "and purchase?" keeps the thread's intent for the new
    subject, "and who owns it?" keeps its subject for the new intent. "thanks!" stays no question."""
    named = _named(question.subjects) or question.subjects.unknown is not None
    if question.declined or (question.intent is None and not named):
        return question
    return Question(question.text, question.intent or intent, question.subjects if named else remembered)


def _named(subjects: Subjects) -> bool:
    return bool(subjects.entities or subjects.migration or subjects.column)


def _score(intent: Intent, text: str) -> int:
    hits = sum(1 for p in intent.phrases if p.search(text))
    return hits + sum(1 for word in set(_WORD.findall(text)) if _cue(word, intent.words))


def _cue(word: str, cues: frozenset[str]) -> bool:
    if word in cues:
        return True
    if len(word) < MIN_TYPO_LENGTH:
        return False
    return any(len(c) >= MIN_TYPO_LENGTH and fuzz.ratio(word, c) >= TYPO_SCORE for c in cues)
