"""'Did you mean …?' for anything the user names: commands, entities, DAGs, dbt nodes."""

from __future__ import annotations

from collections.abc import Iterable

from rapidfuzz import fuzz, process, utils
from rapidfuzz.distance import OSA


def did_you_mean(word: str, choices: Iterable[str], *, cutoff: float = 60.0) -> str | None:
    """The closest choice. A prefix every choice shares ("amd_") is no likeness: `amd_nightly` is
    compared as `nightly`, so it is not offered `amd_delivery_address` for their common four letters."""
    options = list(choices)
    shared = _shared_prefix(options)
    cut = len(shared) if shared and word.lower().startswith(shared.lower()) else 0
    compared = [o[cut:] for o in options]
    match = process.extractOne(
        word[cut:], compared, scorer=fuzz.WRatio, processor=utils.default_process, score_cutoff=cutoff
    )
    return None if match is None else options[match[2]]


def _shared_prefix(options: list[str]) -> str:
    """The prefix of every option up to a separator ("amd_"), when there are several options."""
    if len(options) < 2:
        return ""
    low, high = min(options), max(options)  # what these two share, all the others between them share
    common = low[: next((i for i, (a, b) in enumerate(zip(low, high, strict=False)) if a != b), len(low))]
    cut = max(common.rfind(sep) for sep in "_.-:")
    return common[: cut + 1] if cut >= 0 else ""


def closest_name(word: str, choices: Iterable[str], *, cutoff: float = 0.6) -> str | None:
    """For identifiers (setting names): edits count, a swapped pair as one; WRatio's partial matching
    would offer AMD_HOME_MIN_INTERVAL_S for AMD_HOEM."""
    match = process.extractOne(
        word,
        list(choices),
        scorer=OSA.normalized_similarity,
        processor=utils.default_process,
        score_cutoff=cutoff,
    )
    return None if match is None else str(match[0])


def unknown(kind: str, word: str, choices: Iterable[str]) -> tuple[str, str | None]:
    """The message and suggestion for a name that is not in an allowlist."""
    options = sorted(set(choices))
    guess = did_you_mean(word, options)
    shown = word if len(word) <= 40 else word[:40] + "…"
    message = f"No {kind} `{shown}`."
    if guess:
        return f"{message} Did you mean `{guess}`?", guess
    listing = ", ".join(f"`{o}`" for o in options[:12])
    return f"{message} Known: {listing}{' …' if len(options) > 12 else ''}", None
