"""Misspelt names and cue words: "paymnt" is `payment`, "ownr" asks for an owner. Remembered, since
a catalog of 400 entities has 1,600 ways to name them and a long message repeats its words."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from itertools import pairwise

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


# Letters a word's usual short form does not spell: "txn" is a transaction everywhere money moves.
_CONVENTIONAL = {
    "txn": "transaction",
    "txns": "transactions",
    "xact": "transaction",
    "xacts": "transactions",
    "addrs": "addresses",  # "addrs still stale?": a plural cut short, its letter doubled like "add"
}
VOWELS = frozenset("aeiou")


def abbreviation_of(words: tuple[str, ...], table: Mapping[str, str]) -> str | None:
    """The one name that `words` cut short, part for part: "pmt"→payment, "purch"→purchase,
    "deliv addr"→delivery_address, "txns"→transactions. None when no name, or several, fit."""
    index, known = _indexed(table)
    if words not in known:
        if len(known) > _REMEMBERED:  # a long-running process meets ever new words: forget, not grow
            known.clear()
        least = 3 if len(words) > 1 else 4  # a prefix that short alone is too often another word
        first = _CONVENTIONAL.get(words[0], words[0])[:1]
        fits = {
            name
            for parts, name in index.get((len(words), first), ())
            if all(_shortens(w, p, least) for w, p in zip(words, parts, strict=True))
        }
        known[words] = fits.pop() if len(fits) == 1 else None
    return known[words]


_Index = dict[tuple[int, str], list[tuple[tuple[str, ...], str]]]
_REMEMBERED = 65536


def _indexed(table: Mapping[str, str]) -> tuple[_Index, dict[tuple[str, ...], str | None]]:
    """The table's names by how many words and first letter (a 400-entity catalog has 1,600), and the
    answers so far; remembered per table, like the typos."""
    kept = _SHORT.get(id(table))
    if kept is None or kept[0] is not table:
        _SHORT.clear()
        index: _Index = {}
        for key, name in table.items():
            parts = tuple(key.split("_"))
            index.setdefault((len(parts), parts[0][:1]), []).append((parts, name))
        kept = _SHORT[id(table)] = (table, index, {})
    return kept[1], kept[2]


def _shortens(short: str, word: str, least: int) -> bool:
    if short == word or _CONVENTIONAL.get(short) == word:
        return True
    if len(short) < 3 or len(short) >= len(word) or short[0] != word[0]:
        return False
    if len(short) >= least and word.startswith(short):  # "purch", "deliv"
        return True
    # Its consonants, in order ("pmt", "usr", "pymnts"): no vowel after the first letter, and no letter
    # twice in a row as in the short words that are English ("add" is no address, "all" no allocation).
    rest = iter(word)
    doubled = any(a == b for a, b in pairwise(short))
    return not set(short[1:]) & VOWELS and not doubled and all(letter in rest for letter in short)


_SHORT: dict[int, tuple[Mapping[str, str], _Index, dict[tuple[str, ...], str | None]]] = {}
