"""A message's clauses, which of them ask (`ASKING`), and the items of a list it asks for ("payment: last
run, owner, and any alerts?", "row count of transactions and any open incidents?"). Pure: no I/O."""

from __future__ import annotations

import re

# A list's markers separate too: "- is payment fresh - who owns it" (Slack's bullets), "1) … 2) …".
CLAUSE = re.compile(r"\s*(?:\band\b|&|\+|;|:|\bbut\b|\s[–—-]+\s|\?|,|\.\s|(?:^|\s)\d[.)]\s|^[-•*]\s)\s*")
_SEPARATED = re.compile(rf"({CLAUSE.pattern})")
ASKING = re.compile(
    # "when I got paged", "when the extract ran" tell when, they do not ask; "… and if yes why is it
    # stale?", "… and from where it comes?", "… and to whom do I write?" ask
    r"^also if\b|"  # "… what home_currency means and also if the users data is fresh today?"
    r"^(?:(?:and|so|also|then|or|plus)\s+)?(?:(?:please|pls|plz|kindly),?\s+)?(?:if (?:yes|so|not|no)\s+)?"
    r"(?:(?:from|to|for|in|since|of) )?"
    # a yes or no asked for: "… and tell me whether the test still fails" ("tell me who owns it" is a
    # request's item like "describe it")
    r"(?:(?:pls |please )?tell (?:me|us) (?=whether)|let (?:me|us) know (?=whether))?"
    # ... or a question asked to be advised on: "kindly advise how many payments were loaded yesterday"
    r"(?:(?:advise|confirm|clarify|indicate|check) (?=who|what|when|where|which|how|why|whether))?"
    r"(who|whom|whose|what|whats|when(?! (?:i|we|you|they|the|my|our|their|this|that)\b)|whens|"
    r"where|which|how|why|is|are|"
    r"was|were|did|does|do|has|have|had|can|could|will|would|should|any|anything|anyone|isn't|aren't|whether)\b"
)
# a subject, then what is wanted of it in a list of short items, no question: "user: last run, tests"
HEADED = re.compile(r"^[\w.-]+:\s*(?:[^\s,?]+\s){0,2}[^\s,?]+,[^?]*$")
ITEM = 3  # words at most in an item of a list
_AND = frozenset(["and", "+", "&"])  # what joins the last item to the question (not ",", "but", ":", "?")
_JOINED = _AND | {",", ""}  # ... and the items before it to each other
_THING = frozenset(["the", "its", "their", "his", "her", "our", "a", "an"])
_LATEST = frozenset(["last", "latest"])
_NOITEM = frozenset(
    [
        "i",
        "we",
        "you",
        "they",
        "he",
        "she",
        "it",
        "my",
        "our",
        "sorry",
        "thanks",
        "if",
        "when",
        "before",
        "after",
        "once",
        "while",
        "since",
        "because",
        "as",
        "unless",
        "until",
        "at",
        "on",
        "in",
        "by",
        "from",
        "around",
        "during",
    ]
)
_TELLING = frozenset(
    [
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "looks",
        "look",
        "seems",
        "seem",
        "says",
        "said",
        "need",
        "want",
        "won't",
        "isn't",
        "aren't",
        "don't",
        "doesn't",
        "can't",
        "aside",
        "forget",
        "ignore",
        "not",
    ]
)


def item(clause: str, *, listed: bool) -> bool:
    """A list's item: a few words, or in a list that asks no question a thing named ("for the audit file:
    the owner of the payment table, its lineage, and its last successful run")."""
    words = clause.split()
    if len(words) <= ITEM + 2 and words[0] in _LATEST:  # "purchase: last run of its DAG, freshness vs SLA"
        return True
    return len(words) <= ITEM or (listed and len(words) <= ITEM + 3 and words[0] in _THING)


def items_before(text: str, asked: list[str]) -> list[str]:
    """Short items listed before the first question they are joined to: "payments fresh and who owns it",
    "row count of transactions and any open incidents?", "purchase: last run + where does it come from?"
    Not someone telling ("the doc is outdated, who maintains it?", "I checked the dag and …"), a condition
    or a time ("if users is late, …", "at midnight, …"), nor what is set aside ("tests aside, …")."""
    pieces = _SEPARATED.split(text)
    clauses, joins = [c.strip() for c in pieces[0::2]], [j.strip() for j in pieces[1::2]]
    first = next((i for i, c in enumerate(clauses) if c and c in asked), None)
    items: list[str] = []
    i, joined = (first or 0) - 1, False
    while first is not None and i >= 0 and joins[i] in (_JOINED if joined else _AND):
        words = clauses[i].split()
        if words and (len(words) > ITEM + 2 or words[0] in _NOITEM or set(words) & _TELLING):
            break
        items = [clauses[i], *items] if words else items
        i, joined = i - 1, True
    return items
