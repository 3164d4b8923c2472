"""Where in a message a name stands: a word in an entity's place that names none is what the asker
calls an entity ("is shipment fresh?" → no entity shipment); a word elsewhere is not ("is the coffee
machine fixed?" is chatter). And an entity named as someone's is not the one asked about. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from commands.ask.lemmas import lemma
from commands.ask.typos import is_cue
from commands.ask.words import EVERYDAY, GENERIC_WORDS, STOPWORDS

# A name stands after these words ("owner of X", "is X fresh", "the X table") or before these.
# Only a word in an entity's place may be answered "no entity X": "is the coffee machine fixed?" is chatter.
_BEFORE_NAME = frozenset(["of", "for", "on", "about", "is", "are", "owns", "own", "many", "does", "did"])
_TABLE_WORDS = ["table", "tables", "tbl", "tbls", "data", "dataset", "model", "models", "entity"]
_AFTER_NAME = frozenset([*_TABLE_WORDS, "dag", "dags", "tests", "pipeline", "job"])
# ... or after "table", as in "table refunds" and as most languages put it ("la table X", "a tabela de X",
# "die Tabelle X": commands/ask/glossary.py reads their table words as "table")
_LINKING = frozenset(["de", "di", "da", "del", "della", "van", "der", "des", "du"])
# "a customer", "their order": one person or thing of the world, not the data asked about, when the
# message names an entity otherwise too ("a customer says her order is missing: is purchase behind?").
_ONE_OF_THEM = frozenset(["a", "an", "my", "their", "his", "her", "your", "one"])
# ... or one of them speaking: "customer escalation: who owns purchase?", "the customer's order report"
_SAID = frozenset(["says", "said", "wrote", "writes", "ticket", "escalation", "complaint", "complains", "s"])
_TOLD_TO = frozenset(["tell", "inform", "notify", "warn", "email", "reassure"])
_COUNTED = frozenset(["two", "three", "four", "five", "ten", "several", "dozens", "hundreds", "thousands"])
# Words that are no name: a count ("three alert emails"), an irregular participle ("any known incidents?",
# "is purchase table made from payment?", "how many rows are left?") or half of "apart from", anywhere; a
# regular -ed one only before a table's word ("the cleaned data", not the column "refunded").
_NO_NAME_WORDS = """
    known shown given seen taken written hidden chosen done made built left gone kept sent held apart aside
"""
_NO_NAMES = frozenset(_NO_NAME_WORDS.split())
BREAK = frozenset(",:;?!.")  # punctuation: its own token, and no name runs across it
_ARTICLES = frozenset(["the", "a", "an", "our", "my", "their"])
_LINKS = frozenset(["on", "of", "for", "in", "with", "about", "at", "from", "to", "into", "behind"])


def in_passing(tokens: Sequence[str], i: int, used: int) -> bool:
    """The name of `used` words at `i` is someone's, a word or two after their "my", "a", "their": "my
    expense payment" (not "an incident on payments": a preposition's object is another noun's); or
    theirs speaking: "customer escalation: …"."""
    before = list(tokens[max(0, i - 3) : i])
    ends = BREAK | _LINKS
    if before[-1:] and (before[-1].isdigit() or before[-1] in _COUNTED):  # "40 customers went …"
        return True
    if before[-1:] and lemma(before[-1]) in EVERYDAY:  # an everyday thing's: "the snacks order is in"
        return True
    if before[-1:] and before[-1] in _TOLD_TO:  # told something: "any issues we should tell customers about?"
        return True
    if any(w in _ONE_OF_THEM and not set(before[at + 1 :]) & ends for at, w in enumerate(before)):
        return True
    after = list(tokens[i + used : i + used + 4])
    # part of an everyday thing's name: "the dbt user group meetup", "the order of the slides", "the
    # payment of the Datadog invoice"
    head = [w for w in (after[1:] if after[:1] == ["of"] else after) if w not in _ARTICLES]
    if head and lemma(head[0]) in EVERYDAY:
        return True
    if len(head) > 1 and head[0] not in STOPWORDS | BREAK and lemma(head[1]) in EVERYDAY:
        return True
    return "".join(after[:1]) in _SAID


def name_like(
    tokens: Sequence[str],
    i: int,
    *,
    known: frozenset[str],
    cues: frozenset[str],
    dag_like: Callable[[str], bool],
) -> bool:
    """A word in the place of a name, that is no known word (`known`, a cue, a DAG's name): what the
    asker calls an entity."""
    token = tokens[i]
    if len(token) < 3 or token[0].isdigit() or not token.isascii() or token in known or token in _AFTER_NAME:
        return False
    if dag_like(token) or lemma(token) in EVERYDAY:  # "she's on holiday": an everyday thing, no table
        return False
    after = tokens[i + 1] if i + 1 < len(tokens) else ""
    done = len(token) > 5 and token.endswith("ed")
    if token in _COUNTED or token in _NO_NAMES or (done and after in _TABLE_WORDS):
        return False
    if "_" in token.strip("_"):  # snake_case, as tables are named: "is fx_rates fresh?", "card_tokens rows"
        return not is_cue(token, cues)
    before = tokens[i - 1] if i > 0 else ""
    placed = before in _BEFORE_NAME or (i == 1 and before == "and")  # "and shipment?" in a thread
    placed = placed or (before == "in" and tokens[i - 2 : i - 1] in (["rows"], ["records"]))  # "rows in X"
    placed = placed or before == "table" or (before in _LINKING and tokens[i - 2 : i] == ["table", before])
    # "shipments fresh?" places a name; "went wrong" does not: a how-is-it word follows anything.
    placed = placed or after in _AFTER_NAME or (after not in GENERIC_WORDS and is_cue(after, cues))
    # an inflected cue is a cue ("retries included"), unless a table's word follows: "the tickets table"
    inflected = lemma(token) in cues and after not in _AFTER_NAME
    return placed and not is_cue(token, cues) and not inflected


# A name that is an English word, used as one: "is the data in order?", "out of order", "should I address
# questions …", "I will address that comment" (a verb between its subject and its object); an address
# that is no place: "the email address of customer 88213".
_IDIOMS = frozenset(
    [("in", "order"), ("of", "order")]
    + [
        (kind, a)
        for kind in ("email", "e-mail", "mail", "ip", "web", "mac")
        for a in ("address", "addresses")
    ]
)
# a doer before the verb: "i will address …", "who orders the cartridges?"
_DOER = frozenset(
    [
        "i",
        "we",
        "you",
        "to",
        "will",
        "would",
        "should",
        "can",
        "could",
        "must",
        "please",
        "pls",
        "who",
        "someone",
        "somebody",
        "he",
        "she",
        "they",
    ]
)
_OBJECT = frozenset(["the", "this", "that", "these", "those", "your", "my", "our", "their", "his", "her"])
_OBJECT |= {"a", "an", "it", "them", "questions", "comments", "feedback", "concerns", "issues", "points"}
_OBJECT |= {"regarding", "concerning"}  # "whom should I address regarding the payment entity?"


def said_as_a_word(tokens: Sequence[str], i: int) -> bool:
    before = tokens[i - 1] if i else ""
    after = tokens[i + 1] if i + 1 < len(tokens) else ""
    # ... or an everyday thing its object: "can you order pizza for the team?"
    return (before, tokens[i]) in _IDIOMS or (
        before in _DOER and (after in _OBJECT or lemma(after) in EVERYDAY)
    )
