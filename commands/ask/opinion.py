"""The learned model's reading (commands/ask/learned.py) of what the rules understood, where it is sure.
Its thresholds were chosen on dev sets it was not trained and the rules not tuned on (README, "The learned
second opinion"). Pure and fast: no I/O."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from commands.ask.about import ASKED, about_data, at_work, everyday
from commands.ask.fits import STATE_ASKED, migration_of, only_migration, tests_run
from commands.ask.intent import Intent, Question
from commands.ask.learned import CHATTER, guess
from commands.ask.lemmas import lemmas, lemmas_of
from commands.ask.moments import asks_about_the_past
from commands.ask.subjects import Vocabulary
from commands.ask.words import TOLD_ALL, overall_phrased

SURE, OVERRULE, CERTAIN = 0.4, 0.7, 0.6  # CERTAIN: an overall question needs no listed data word
# chatter though an entity is named, or an intent's word heard: "who's got the slides for the customer
# workshop?", "does the canteen take card payments now?" (chosen on the dev sets each left out of the
# model's data: 8 more of their 2,555 chatter lines silent, none of their 5,805 questions lost)
SILENCE = 0.9
_OWNS_A_THING = re.compile(r"\b(?:own(?:s|ed)?|owners? of) (?:the|our|their|your|his|her|my) ")
_NOT_NARROWED = frozenset([CHATTER, "history", "status"])
_NEWS = re.compile(r"\b(?:any|an|some|the latest)\s+(?:news|updates?)\b")
_AGED = re.compile(r"\b(?:days?|hours?|h|minutes?|mins?) (?:old|behind|late|stale)\b")


def second_opinion(question: Question, vocab: Vocabulary, intents: Sequence[Intent]) -> Question:
    """More sure to overrule an intent the rules heard than to fill in where they heard none. It may
    name one intent, chatter where nothing known is named (or, very sure, whatever the rules heard),
    the status of a subject named, the overall status of the data where nothing is named, a
    past moment's history. A decline, several intents heard at once and everyday talk the rules left
    silent stay the rules'."""
    if (
        question.declined
        or question.turned_down
        or question.also
        or everyday(question.text, question.subjects, vocab)
    ):
        return question  # everyday things talked of: the rules' silence stands
    label, likely = guess(question.text, vocab)
    # no intent cue heard. The data as a whole asked about ("what went wrong overnight? I see red in
    # Airflow") takes as much to overrule as an intent: silencing or narrowing it alike.
    # ... unless all of a subject is asked for in so many words: "fill us in on payment", "overview of X"
    told_all = STATE_ASKED.search(question.text) or TOLD_ALL.search(question.text)
    unclear = question.intent is None or (question.intent == "status" and not told_all)
    # a remark, nothing asked, is read into only when very likely: "the bird migration was amazing"
    told = question.intent is None and not ASKED.search(question.text)
    if likely < (SURE if unclear and not told else OVERRULE) or label == question.intent:
        return question
    if question.intent is None and at_work(question.text):  # "snowflake legs done, cassandra tomorrow"
        return question
    # all asked of at once, in so many words: "the big picture: freshness, runs, tests — all ok?" is no
    # question about one kind of finding (a past moment's or a subject's still may be)
    if question.intent == "overall" and overall_phrased(question.text) and label not in _NOT_NARROWED:
        return question
    subjects, text = question.subjects, question.text
    # owning a thing named is no data word of its own: "who owns the Q3 OKR doc?", "who's the owner of the
    # 'Q4 planning' doc?" (as the rules read it; not "and who owns it?" in a thread, nor "owner pls")
    owns_a_thing = label == "owner" and _OWNS_A_THING.search(text) is not None
    owning = {w for i in intents if i.name == "owner" for w in lemmas_of(i.words)} if owns_a_thing else set()
    named, on_data = subjects.named, about_data(text, set(lemmas(text)) - owning, intents, vocab)
    fits = {
        # an all-is-well phrase said of the data ("all systems normal?") takes as much as a name to silence
        CHATTER: not (named or (question.intent == "overall" and overall_phrased(text))) or likely >= SILENCE,
        "status": named or subjects.owner is not None,  # "what is the situation with lena.m's data?"
        "overall": not named and (likely >= CERTAIN or on_data),
        "history": asks_about_the_past(text),
        "decline": False,
        # "how many days old is purchase?" counts days, not rows; a test's rows are the rows it fails on
        # ... and a migration's rows are its progress: "how many rows did the bigquery leg add yesterday?"
        "volume": not _AGED.search(text) and not subjects.test and not only_migration(subjects),
        "runs": not tests_run(text),  # "did the payment tests run?" asks how they did
        # news asked for is all of its status: "Re: purchase, any update from the team?"
        "freshness": not (question.intent == "status" and _NEWS.search(text)),
    }
    # an entity's intent about nothing named asks "which entity?": only of a message about data
    needs_one = any(i.name == label and i.subject == "entity" for i in intents)
    if not fits.get(label, True) or (
        needs_one and not (named or subjects.owner or subjects.unknown or on_data)
    ):
        return question
    if label == "migrations" and subjects.entities:  # "is the address move finished?"
        question = replace(question, subjects=migration_of(subjects, vocab, keep=False))
    return replace(question, intent=None if label == CHATTER else label, also=())
