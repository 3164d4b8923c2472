"""A message in a thread the bot answered, read with what the thread was about."""

from __future__ import annotations

import re

from commands.ask.intent import Question
from commands.ask.subjects import Subjects

_BACK = re.compile(r"\b(it|its|it's|that|this|them|they|their|same|there)\b")  # the thread's subject
_ONLY_A_NAME = re.compile(r"^(and|what about|how about)\b")


def follow_up(question: Question, intent: str, remembered: Subjects) -> Question:
    """A message in a thread the bot answered: "and purchase?" keeps the thread's intent for the new
    subject, "and who owns it?" keeps its subject for the new intent. "thanks!" stays no question,
    and "is anything stale?" is about everything, not the thread's entity."""
    subjects = question.subjects
    if question.declined:
        return question
    if question.intent in (None, "status"):
        # a name put to the thread ("and purchase?", "purchase"), not one said in a remark ("merged the
        # purchase fix, thanks") nor in passing ("the pizza order is in, who's hungry?")
        put = "?" in question.text or _ONLY_A_NAME.match(question.text) or len(question.text.split()) <= 2
        names_one = (subjects.named and not subjects.in_passing and put) or (
            subjects.unknown is not None and _ONLY_A_NAME.match(question.text)
        )
        return Question(question.text, intent, subjects) if names_one else question
    if subjects.named or subjects.unknown is not None or not _BACK.search(question.text):
        return question
    return Question(question.text, question.intent, remembered, also=question.also, why=question.why)
