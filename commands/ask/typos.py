"""Misspelt names and cue words: "paymnt" is `payment`, "ownr" asks for an owner. Remembered, since
a catalog of 400 entities has 1,600 ways to name them and a long message repeats its words."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

from rapidfuzz import fuzz, process

TYPO_SCORE = 85.0  # rapidfuzz ratio: "paymnt"→payment, "delivry adress"→delivery_address, not "usage"→users
MIN_CUE_TYPO_LENGTH = 4  # cue words are few and known: "ownr" is the owner


def typo_of(word: str, table: Mapping[str, str]) -> str | None:
    """The name `word` misspells, remembered per table: a catalog of 400 entities has 1,600 ways to
    name them, and a long message repeats its words."""
    kept = _TYPOS.get(id(table))
    if kept is None or kept[0] is not table:
        kept = _TYPOS[id(table)] = (table, tuple(table), {})
        if len(_TYPOS) > 8:  # a reloaded catalog's tables: the old ones go
            _TYPOS.clear()
            _TYPOS[id(table)] = kept
    _, keys, found = kept
    if word not in found:
        match = process.extractOne(word, keys, scorer=fuzz.ratio, score_cutoff=TYPO_SCORE)
        found[word] = None if match is None else table[match[0]]
    return found[word]


_TYPOS: dict[int, tuple[Mapping[str, str], tuple[str, ...], dict[str, str | None]]] = {}


@lru_cache(maxsize=65536)
def is_cue(word: str, cues: frozenset[str]) -> bool:
    if word in cues:
        return True
    if len(word) < MIN_CUE_TYPO_LENGTH:
        return False
    # A cue cut short or run on is another word, not a typo of it: "read" is no "ready".
    return any(
        len(c) >= MIN_CUE_TYPO_LENGTH
        and not (c.startswith(word) or word.startswith(c))
        and fuzz.ratio(word, c) >= TYPO_SCORE
        for c in cues
    )
