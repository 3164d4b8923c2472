"""argparse types that check numbers the way settings are checked: a mistake is refused with words
(argparse prints usage and exits 2), never accepted to behave oddly later (`--rate -5` ran unthrottled)."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable


def _number(
    kind: type[float] | type[int],
    what: str,
    *,
    above: float | None = None,
    low: float = 0,
    high: float = math.inf,
) -> Callable[[str], float]:
    """`kind` from text, within [low, high] (and > above when given), else argparse's error with `what`."""

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if not math.isfinite(value) or not low <= value <= high or (above is not None and value <= above):
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
        return value

    return parse


seconds = _number(float, "a number of seconds ≥ 0 (e.g. 30)")
rate = _number(float, "a number of rows per second > 0 (e.g. 5000)", above=0)
count = _number(int, "a whole number ≥ 0 (e.g. 3)")
positive = _number(int, "a whole number ≥ 1 (e.g. 3)", low=1)
port = _number(int, "a TCP port, 0–65535 (0: any free port)", high=65535)
