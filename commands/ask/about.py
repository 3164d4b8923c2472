"""What a message is about, as the rules and the learned second opinion both need to know it: which of
its sentences ask, whether it talks of everyday things, whether it carries a data-status cue. Pure: no
I/O."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from commands.ask.intent import Intent, Question
from commands.ask.items import ASKING
from commands.ask.lemmas import WORD, lemma, lemmas_of
from commands.ask.subjects import Subjects, Vocabulary, resolve
from commands.ask.typos import is_cue
from commands.ask.words import DOMAIN, DOMAIN_PHRASES, EVERYDAY, GENERIC_PHRASES, STOPWORDS, THE_DATA, TROUBLE

# Put to the bot: a question, or a request ("data status pls", "tell me about payment").
ASKED = re.compile(
    r"\?|^(?:(?:hey|hi|hello|morning|gm|yo|ok|so)(?:\s+[\w-]+)?\W+)?(who|what|whats|when|whens|where|which|how|why|is|are|was|were|did|does|do|has|have|any|anything|"
    # (not "can't find it in the docs", "don't see it")
    r"can|could|status|show|tell|give|list|check|describe|explain)\b(?!['’]t\b|n['’]?t\b)|"
    r"\b(pls|please|plz|kindly|tell me|show me|catch (?:me|us) up|fill (?:me|us) in)\b"
)
# Thanks or praise, the bot's work done: "thanks @amd!", "you're a lifesaver 🙌", "i owe you one". Not even
# a mention of the bot makes that a question: a list of what it answers would be its reply to a thank-you.
THANKS = re.compile(
    r"^(?:(?:many |much )?thanks|thank you|thx|ty|cheers|(?:much )?appreciated|i owe you|you rock|good bot|"
    r"nice one|you'?re (?:(?:the )?(?:real )?(?:best|mvp|goat)|amazing|awesome|brilliant|"
    r"a (?:star|legend|lifesaver|gem|hero|champ|rockstar))|"
    r"obrigad[oa]|gracias|danke|merci|grazie|dzi[eę]kuj[eę]|dank ?je|bedankt|te[sş]ekk[uü]rler|tack|takk)\b"
)
GREETED = re.compile(r"^(?:hi|hello|hey|hiya|howdy|yo|gm|(?:good )?(?:morning|afternoon|evening))\b")


# A greeting or a goodbye and nothing else ("morning @amd!", "good night @amd, see you tomorrow 😴"): said
# to the room as much as to the bot, so a mention in a channel gets no reply; in a DM the bot says hello.
_FAREWELL = re.compile(
    r"^(?:(?:good ?)?night|nite|gn|bye|goodbye|cya|see (?:you|ya)|have a (?:good|nice|great))\b"
)
_PLEASANT_WORDS = """
    hi hello hey hiya howdy yo gm gn good morning afternoon evening night nite bye goodbye cya see you ya
    tomorrow later soon all everyone everybody team folks there again too and have a nice great weekend day
    happy monday friday wave nice to meet just saying say it s is my first day here new i m am glad
"""
_PLEASANT = frozenset(_PLEASANT_WORDS.split())


def thanked(text: str) -> bool:
    return THANKS.match(text) is not None and "?" not in text


def pleasantry(text: str) -> bool:
    words = WORD.findall(text)
    opened = GREETED.match(text) or _FAREWELL.match(text)
    return bool(opened) and "?" not in text and all(w in _PLEASANT for w in words)


# Someone telling the room what they are doing or have done, asking nothing: "rerunning the payment backfill
# now, don't trigger anything on amd_payment", "snowflake chunks all done, moving on to cassandra tomorrow",
# "amd_payment red again, same test, I'm on it". Unless they say what they wonder: "i'm looking at the grid
# and i'm wondering is it going to recover".
_AT_WORK = re.compile(
    r"^(?:(?:ok|so|fyi|heads up|update)\W+)?(?:(?:i'?m|we'?re|i am|we are) )?(?:re-?running|starting|"
    r"restarting|adding|renaming|moving|merging|deploying|fixing|working|looking|investigating|checking|"
    r"kicking|pausing|resuming|backfilling|dropping|writing|reviewing|pushing|reverting|bumping|upgrading|"
    r"cleaning|removing|creating|building|debugging|patching|refactoring|taking|picking|heading|grabbing|"
    r"rolling|triggering|retrying|rebuilding|turning|switching|disabling|enabling)\b|"
    r"\b(?:i'?m on it|i'?ll|i will|we'?ll|will (?:watch|check|look|fix|post|ping|update|keep|let)|"
    r"prs? (?:tomorrow|today|is up|incoming|coming)|as designed|as expected|all done|done\W*$|"
    r"done\b(?=.*\b(?:next|tomorrow|later|after)\b)|already known|fix(?:es)? (?:is |are )?on "
    r"(?:its|their|the) way)|^(?:on-?call )?hand-?over\b"
)
# An announcement to the room, no question in it: "PSA: please don't full-refresh purchase in prod"
_ANNOUNCED = re.compile(r"^(?:psa|reminder|announcement)\b")
_WONDER = re.compile(r"\b(?:wonder(?:ing)?|(?:like|want|need) to know|curious|not sure (?:if|whether))\b")


def at_work(text: str) -> bool:
    """A report of one's own work (see _AT_WORK) or an announcement, no question in it."""
    if _ANNOUNCED.match(text) and "?" not in text:
        return True
    return not ASKED.search(text) and _AT_WORK.search(text) is not None and not _WONDER.search(text)


# What the bot is and does, asked of it: "@amd help", "what can you do?", "how do I use you?".
_ABOUT_ME = re.compile(
    r"\b(?:help|usage|commands?|what (?:can|do) you (?:do|answer|know)|what are you for|"
    r"how (?:do|can|should) (?:i|we) (?:use|ask) you|who are you|what are you)\b"
)


def asks_about_me(text: str) -> bool:
    return _ABOUT_ME.search(text) is not None and not thanked(text)


def no_reply(question: Question, vocab: Vocabulary, intents: Sequence[Intent], *, in_channel: bool) -> bool:
    """Said to the bot, nothing asked of it that it answers: a thank-you; in a channel, where the room hears
    it too, a greeting alone, a remark that mentions it ("@amd you're funny", "sorry @amd, wrong channel"),
    or a question about nothing it knows ("@amd what's the weather in Lisbon?", "@amd who won the
    football?"): no name, no data word, and not what the bot is or does. That is the room's talk (issue 19:
    silent on what names nothing known and has no data-status cue). A request it turns down is answered
    with why; in a DM every question is, even with "I cannot answer that": silence there reads as broken."""
    text, subjects = question.text, question.subjects
    if question.declined or asks_about_me(text):
        return False
    if thanked(text):
        return True
    if not in_channel:
        return False
    if pleasantry(text) or not ASKED.search(text):
        return True
    known = subjects.named or subjects.unknown or subjects.owner
    words = {lemma(w) for w in WORD.findall(text)}
    return not (known or about_data(text, words, intents, vocab))


# A message's parts: what it asks, and what only tells the context ("need it for the churn analysis",
# "before I publish the revenue deck"): a decline is for what is asked, not for the asker's reasons.
SENTENCE = re.compile(r"(?<=[?!;])|\.\s|:\s|\s[–—-]+\s")
_REASON = re.compile(
    r"\b(?:before|because|so that|since|as|for) (?:i|we|they|finance|my|our)\b|"
    r"\b(?:for|in) the (?:\w+ ){0,2}(?:forecast|report|review|deck|meeting|presentation|analysis)\b"
)


# What the asker says they are not asking is not asked: "not asking why it's stale, just who to chase";
# what they say they are asking is all they ask: "the tests are fine, I'm asking whether the DAG finished".
_NOT_ASKED = re.compile(
    r"\b(?:(?:i'?m|i am|we'?re|we are) )?not asking (?:about |if |whether |why |for |how |what )?"
    r"[^,;.?!—–]*[,;.?!—–]+\s*(?:(?:just|but|only|rather|instead)\b,?\s*)*"
)
_ONLY_ASKING = re.compile(
    r"^.*?\b(?:i'?m|i am|we'?re|we are) (?:just |only |really |actually )?asking "
    r"(?:about |for )?(?=(?:whether|if|who|what|when|where|which|how|why)\b)"
)


def meant(text: str) -> str:
    """The text without what the asker says they do not ask."""
    return _ONLY_ASKING.sub("", _NOT_ASKED.sub("", text)).strip() or text


def untold(text: str) -> str:
    """The message without the reasons the asker tells: "before I restart the job: is anything down?"."""
    return " ".join(_REASON.split(s)[0] for s in SENTENCE.split(text))


def asked_first(text: str, vocab: Vocabulary) -> Subjects:
    """The subjects named, the entity of the sentence that asks first: "customers say their new address
    is not showing. is the delivery address data behind?" asks about `delivery_address`. A column named
    with its entity keeps it: "is_current in addresses: the latest per user?"."""
    subjects = resolve(text, vocab)
    asked = " ".join(asked_parts(text))
    pinned = (
        subjects.column and subjects.entities[:1] and subjects.entities[0] in vocab.columns[subjects.column]
    )
    if len(subjects.entities) < 2 or asked == text.strip() or pinned:
        return subjects
    first = next(iter(resolve(asked, vocab).entities), subjects.entities[0])
    return replace(subjects, entities=(first, *(e for e in subjects.entities if e != first)))


def asked_parts(text: str) -> list[str]:
    """The sentences that ask (each without its reasons), or all of them when none does."""
    parts = [_REASON.split(_after_reason(s))[0].strip() for s in SENTENCE.split(text)]
    asking = [p for p in parts if p and (ASKING.match(p) or ASKED.search(p))]
    return asking or [p for p in parts if p]


def _after_reason(sentence: str) -> str:
    """A sentence without the reason it opens with: "for the security review, please list …"."""
    opened = _REASON.match(sentence.strip())
    return sentence.split(",", 1)[1] if opened and "," in sentence else sentence


# an everyday thing as a time ("not moved since lunch", "fresh by breakfast?"), or said as a verb: "who do I
# talk to about X" (not a talk), or in an idiom
_WHEN = re.compile(
    r"\b(?:since|before|after|until|till|by|at|around) (?:lunch|breakfast|dinner|brunch)\b|"
    r"\btalk(?:ing)? (?:to|with)\b|"
    r"\b(?:mid|in)[- ]flight\b"  # under way: "are any history migrations mid-flight?"
)


def everyday(text: str, subjects: Subjects, vocab: Vocabulary) -> bool:
    """Everyday things asked about, and no data named but in passing: "my salary payment landed?" (not
    "is there an incident? my boss heard of one in the lift": the lift is not what is asked)."""
    said = _WHEN.sub(" ", text)
    parts = asked_parts(said)
    asked = " ".join(parts)
    words = {lemma(w) for w in WORD.findall(asked)}
    # named only after what is asked, not in a heading before it: "who ordered the pizzas? the orders are
    # at reception" (not "port_calls: failing tests? who do i talk to?")
    if parts and asked != said.strip() and said.lstrip().startswith(parts[0]) and subjects.named:
        subjects = resolve(asked, vocab)
    named = (subjects.named and not subjects.in_passing) or subjects.owner is not None
    return (
        not named and (bool(words & EVERYDAY) or _people_only(asked)) and not any(map(vocab.dag_like, words))
    )


_PEOPLE = re.compile(r"\bdata (?:analyst|scientist|engineer|science|engineering|literacy)s?\b")


def _people_only(text: str) -> bool:
    """People named for the data, and no data: "what's the difference between a data analyst and a data
    scientist?" """
    return _PEOPLE.search(text) is not None and re.search(r"\bdata\b", _PEOPLE.sub(" ", text)) is None


def about_data(text: str, words: set[str], intents: Sequence[Intent], vocab: Vocabulary) -> bool:
    """A data-status cue: a word only data people use (or its typo), a DAG's name, or the phrasing of
    an intent that may be about nothing named (an owner's "who is …" asks about people in general)."""
    phrased = (p for i in intents if i.subject != "entity" for p in i.phrases)
    if _people_only(text):
        words = words - {"data"}
    if words & (DOMAIN | THE_DATA) or any(map(vocab.dag_like, words)):
        return True
    if any(p.search(text) for p in (*DOMAIN_PHRASES, *phrased)):
        return True
    return any(is_cue(w, DOMAIN) for w in words - STOPWORDS)


_REPORTS = frozenset(
    lemma(w) for w in ("report", "rundown", "summary", "recap", "update", "updates", "overview")
)


def put_to_the_bot(question: Question) -> Question:
    """Asked of the bot itself (a mention, a DM, `/amd ask`) how things are, about nothing named ("@amd
    how are we doing?", "@amd morning report?"): the overall status. Said in a help channel's talk, the
    same words stay chatter. Only a question or a request: "ok cool" is no question however mild its words."""
    subjects, text = question.subjects, question.text
    if question.intents or question.declined or subjects.named or subjects.unknown or subjects.owner:
        return question
    words = {lemma(w) for w in WORD.findall(text)}
    how = words & (TROUBLE | _REPORTS) or any(p.search(text) for p in GENERIC_PHRASES)
    asked = ASKED.search(text) and not THANKS.match(text)
    return replace(question, intent="overall") if how and asked and not words & EVERYDAY else question


def unexplained(text: str, vocab: Vocabulary, unknown: str | None) -> set[str]:
    """The words of a remark that are no name (not even the one asked after), cue or stopword."""
    cues = lemmas_of(vocab.cues)
    words = {w for w in WORD.findall(text) if not w[0].isdigit()} - {unknown}  # "last 7 days", "9am"
    words = {w for w in words if w not in vocab.explained and w not in vocab.names}
    return {w for w in words if w not in vocab.columns and lemma(w) not in cues and not is_cue(w, cues)}
