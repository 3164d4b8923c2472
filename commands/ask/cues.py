"""Which intent a clause asks for: each intent's cue words (as lemmas, and their typos) and phrasings
are found in it, a strong cue counting twice a weak one; the best-matched wins, of two as well matched
the one asked first. A message asks several things in clauses ("is payment fresh and who owns it?"),
or lists them in a request ("row count and freshness pls"). Pure: no I/O."""

from __future__ import annotations

import re
from collections.abc import Sequence

from commands.ask.intent import Intent
from commands.ask.items import ASKING, CLAUSE, HEADED, ITEM, item, items_before
from commands.ask.lemmas import WORD, lemma, lemmas, lemmas_of
from commands.ask.typos import is_cue
from commands.ask.words import GENERIC, GENERIC_PHRASES, OVERALL_PHRASES, STOPWORDS

# A message asks several things in clauses: "is payment fresh and who owns it?".
_LISTED = re.compile(r"\s(?:and|&|\+|plus)\s")
# A request's clause beside a question's: "please share the lineage of payment and confirm whether it is up to
# date"
_REQUEST = re.compile(
    r"^(?:(?:and|also|then|plus)\s+)?(?:please|pls|plz|kindly),?\s+(?:share|show|give|send|list|provide)\b"
)
# What a question may go on to guess the answer of: "where does it come from? the app, or an old system?"
_GUESSED = (["meaning"], ["lineage"], ["owner"], ["runs"], ["freshness"], ["tests"])
# A cause put forward after a why, a guess at its answer: "why is purchase behind? is it the volume?"
_CAUSE = re.compile(
    r"(?:is|was|could|might) (?:it|that|this)(?: be)?(?: because of| due to)? (?:the|a|an) \w+$"
)
# A numbered list's markers: "(1) is payment current, (2) do its checks pass, (3) …": each item asks.
_NUMBERED = re.compile(r"(?:^|\s)\(?\d[.)]\s")
# What a job does is what it is, not what is asked of it: "is the job that loads orders done for today?"
_THAT_DOES = re.compile(
    r"(\b(?:job|dag|pipeline|task|process|script) )((?:that|which) (?:loads?|builds?|feeds?|populates?|"
    r"refresh(?:es)?|updates?|writes?|fills?)\b)"
)
# What a state means to the asker is no meaning of a column: "what does it mean when purchase has a red icon?"
_IT_MEANS = re.compile(r"\bwhat (?:does|do|did|would) (?:it|this|that) mean (?=when|if|that)\b")
_WHO = re.compile(r"(?:(?:and|so|also|then|but) )?(?:who|whom|whose)\b")
_NAME_AFTER = re.compile(r"\b(?:what (?:is|are)|whats|what's) (the )?\w+ (table|model|data|entity)\b")


def _how_is_it(clause: str) -> bool:
    phrased = (*GENERIC_PHRASES, *OVERALL_PHRASES)  # "all clear on the amd side?"
    return bool(set(lemmas(clause)) & GENERIC) or any(p.search(clause) for p in phrased)


def picked_intents(
    text: str, intents: Sequence[Intent], cues: frozenset[str], *, generic: bool, named: bool
) -> list[str]:
    """The intent of each clause that asks something, in the order asked; the whole message's best
    when no clause is a question of its own ("the dag succeeded but is the data fresh?" asks one)."""
    clauses = [c for c in CLAUSE.split(text) if c]
    # Each question mark ends what it asks ("payment: fresh? tests? owner?"); one ends the whole message.
    ends = text.split("?")[:-1]
    # ... and so does one before the message goes on: "open incidents on payment? and who's on call"
    ended = len(ends) > 1 or (len(ends) == 1 and text.rstrip()[-1:] != "?")
    questions = {CLAUSE.split(q)[-1].strip() for q in ends} if ended else set()
    asked = [c for c in clauses if ASKING.match(c) or c in questions] if len(clauses) > 1 else []
    asked = [c for c in clauses if c in asked or _REQUEST.match(c)] if asked else []
    # a list's items ask too: "payment: last run, owner, and any alerts?", "user: last run, tests"
    if text.count(",") >= 2 or HEADED.match(text):
        asked = [c for c in clauses if c in asked or item(c, listed="?" not in text)]
    asked = items_before(text, asked) + asked
    numbered = [item for item in _NUMBERED.split(text)[1:] if item.strip()]
    if len(numbered) > 1:
        asked = numbered
    picked: list[str] = []
    # No clause a question of its own: a request lists what it wants ("row count and freshness pls").
    for clause in asked or _LISTED.split(text):
        if picked[:1] in _GUESSED and clause in questions and guesses(clause, text):
            continue
        best = _best(clause, intents, cues, generic=generic, named=named)
        if best is not None and best not in picked:
            picked.append(best)
    if not asked and len(picked) < 2:
        best = _best(text, intents, cues, generic=generic, named=named)
        picked = [best] if best else []
    # An asked clause that asks how something is ("is the warehouse healthy?") is not about the
    # cue of a clause that only tells ("before I kick off the dashboard refresh").
    if not picked and asked and not any(_how_is_it(c) for c in asked):
        best = _best(text, intents, cues, generic=generic, named=named)
        picked = [best] if best else []
    return picked


def guesses(clause: str, text: str = "") -> bool:
    """What follows a question may guess its answer, in words that would be other cues: "what values can
    status have? only captured or also failed?", "what's is_current? true is the latest one?", "where do
    addresses come from? the app, or some old system?", "what did the run die on — the build or the
    test task?". A guess asks nothing of its own: no question word, and alternatives or a sentence, not
    a listed item ("what is purchase? owner?") nor more asked ("… ? and is it fresh?")."""
    more = re.compile(rf"\b(?:and|also|plus)\W*{re.escape(clause)}")
    if _CAUSE.match(clause) and re.search(r"\bwhy\b", text.partition(clause)[0]):
        return True  # a cause put forward after a why: "why is purchase behind? is it the volume?"
    if ASKING.match(clause) or re.match(r"(?:and|also|plus)\b", clause) or more.search(text):
        return False
    return " or " in f" {clause} " or len(re.findall(r"\w\S*", clause)) > ITEM  # not a bullet: "• owner?"


def _best(
    text: str, intents: Sequence[Intent], cues: frozenset[str], *, generic: bool, named: bool
) -> str | None:
    """The best-matched intent. A weak phrasing alone ("what's …") decides only about a subject named,
    and loses to a how-is-it word: "what's up with amd_payment?" asks how it is, not what it means."""
    text = _THAT_DOES.sub(lambda m: m.group(1) + " " * len(m.group(2)), text)
    text = _IT_MEANS.sub(lambda m: " " * len(m.group()), text)
    words = positioned(text)
    scores = [(*score(intent, text, words, cues), -i, intent.name) for i, intent in enumerate(intents)]
    if _WHO.match(text) and any(s[0] and s[-1] == "owner" for s in scores):
        return "owner"  # a person asked for, whatever of: "who owns that failing currency test on it?"
    best, *_, name = max(scores)
    return name if best > 1 or (best == 1 and not generic and (named or _NAME_AFTER.search(text))) else None


def score(
    intent: Intent, text: str, words: Sequence[tuple[int, str]], cues: frozenset[str]
) -> tuple[int, int, int]:
    """Cue matches (a weak phrasing counts half); of two intents as well matched, the one with more
    phrasings (a phrasing says more than a word: "can you run me through who maintains it" asks for
    an owner), then the one asked first ("is payment fresh and did its DAG run?"): where its first
    strong cue is, negated."""
    places, phrased = _cued(intent, text, words, cues)
    weak = sum(1 for p in intent.weak if p.search(text))
    strong = 2 * len(places)
    return strong + weak if strong else weak, phrased, -min(places, default=len(text))


def strong_places(
    intent: Intent, text: str, words: Sequence[tuple[int, str]], cues: frozenset[str]
) -> list[int]:
    """Where the intent's strong cues are: its phrasings, its words (as lemmas, or misspelt). A word in
    one of its phrasings is part of that cue, not another: "how many rows" is one cue, not two."""
    return _cued(intent, text, words, cues)[0]


def _cued(
    intent: Intent, text: str, words: Sequence[tuple[int, str]], cues: frozenset[str]
) -> tuple[list[int], int]:
    """Where the strong cues are, and how many of them are phrasings."""
    spans = [m.span() for p in intent.phrases if (m := p.search(text))]
    places = [start for start, _ in spans]
    own = lemmas_of(intent.words)
    for offset, word in words:
        if any(start <= offset < end for start, end in spans):
            continue
        if word in own or (word not in cues and word not in STOPWORDS and is_cue(word, own)):
            places.append(offset)
    return places, len(spans)


def positioned(text: str) -> list[tuple[int, str]]:
    return [(m.start(), lemma(m.group())) for m in WORD.finditer(text)]
