"""One check's finding: passed or not, what was seen, and how to fix it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.foundation.ports import BackendUnavailable

Status = Literal["ok", "FAIL", "skip", "warn"]  # skip: not configured here; warn: works, but see the fix


@dataclass(frozen=True)
class Finding:
    check: str
    status: Status
    detail: str
    fix: str | None = None

    @property
    def passed(self) -> bool:
        return self.status != "FAIL"

    def line(self, width: int) -> str:
        fix = f" → {self.fix}" if self.fix else ""
        return f"{self.status:<4} {self.check:<{width}}  {self.detail}{fix}"


def ok(check: str, detail: str) -> Finding:
    return Finding(check, "ok", detail)


def fail(check: str, detail: str, fix: str) -> Finding:
    return Finding(check, "FAIL", detail, fix)


def first_line(exc: BaseException) -> str:
    """An error for one line: the first line of its message, after its class unless it is one of
    ours (their messages are written for people)."""
    text = str(exc).strip().split("\n", 1)[0]
    if isinstance(exc, BackendUnavailable) and text:
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
