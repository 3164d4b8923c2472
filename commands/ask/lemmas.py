"""Words to their lemma, so a cue written once matches its inflections: "refreshes", "refreshed" and
"refreshing" are "refresh"; "failures" is "failure"; "owns" is "own"; "copied" is "copy"; "staleness"
is "stale". A few suffix rules, not a dictionary: cue words go through the same function, so a rule only
has to be consistent, not right. The irregular verbs people use of data ("broke", "ran", "grew") are
the only words listed.
"""

from __future__ import annotations

import re
from functools import lru_cache

WORD = re.compile(r"[a-z0-9_]+")
_KEEP = frozenset(["is", "was", "has", "this", "its", "us", "status", "yes", "bus", "always", "analysis"])
_IRREGULAR = {
    "broke": "break",
    "broken": "break",
    "ran": "run",
    "grew": "grow",
    "grown": "grow",
    "shrank": "shrink",
    "shrunk": "shrink",
    "fell": "fall",
    "fallen": "fall",
    "came": "come",
    "went": "go",
    "gone": "go",
    "kept": "keep",
    "built": "build",
    "began": "begin",
    "begun": "begin",
}
_DOUBLED = re.compile(
    r"([bdgkmnprt])\1$"
)  # "stopped" → "stopp" → "stop"; "stalled" stays "stall", no "stale"


@lru_cache(maxsize=8192)
def lemma(word: str) -> str:
    """A stem without its final "e", so "update", "updated" and "updating" all meet at "updat"."""
    if word in _IRREGULAR:
        return lemma(_IRREGULAR[word])
    if len(word) <= 3 or word in _KEEP or "_" in word or word.isdigit():
        return word
    if word.endswith("ness") and len(word) > 7:  # "freshness", "uniqueness": the quality of the word
        word = word[:-4]
    stem = word
    for suffix, keep in (
        ("ies", "y"),
        ("ied", "y"),
        ("sses", "ss"),
        ("ing", ""),
        ("ed", ""),
        ("es", ""),
        ("s", ""),
    ):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                break
            stem = word[: -len(suffix)] + keep
            if suffix in ("ing", "ed"):
                stem = _DOUBLED.sub(r"\1", stem)
            break
    return stem[:-1] if stem.endswith("e") and len(stem) > 3 else stem


def lemmas(text: str) -> list[str]:
    return [lemma(w) for w in WORD.findall(text)]


@lru_cache(maxsize=64)
def lemmas_of(words: frozenset[str]) -> frozenset[str]:
    return frozenset(lemma(w) for w in words)
