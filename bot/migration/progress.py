"""The arithmetic of migration progress: %, rows/s, ETA, stall and validation verdicts.

Pure functions over what the ledger holds; the time is always passed in, never read here, so every
rule below is tested with exact instants.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

Intent = Literal["run", "pause"]
State = Literal["waiting", "running", "paused", "stalled", "done"]


@dataclass(frozen=True)
class SourceTotals:
    """One source as the ledger holds it (aggregated over the last report of each chunk)."""

    source: str
    kind: str = ""  # filled in from the migration's declaration
    expected: int | None = None  # None until declared in config or counted by the copy job
    rows: int = 0  # copied, in chunks whose last report is ok
    bytes: int = 0
    chunks_ok: int = 0
    failed: int = 0  # chunks whose last report is `failed`
    first_at: datetime | None = None
    last_at: datetime | None = None
    target_rows: int | None = None  # counted in the target by the last validation
    validated_at: datetime | None = None
    checksums_compared: int = 0  # chunks with a source and a target checksum
    checksums_mismatched: int = 0


@dataclass(frozen=True)
class Window:
    """Reports of ok chunks inside the rate window (now - window, now]."""

    rows: int
    reports: int


@dataclass(frozen=True)
class SourceProgress:
    source: str
    kind: str
    expected: int | None
    rows: int
    bytes: int
    chunks_ok: int
    failed: int
    percent: float | None
    done: bool
    target_rows: int | None
    checksums_compared: int
    checksums_mismatched: int
    valid: bool | None  # ✓/✗ once the source is done and validated; None: not (yet) known


@dataclass(frozen=True)
class Progress:
    name: str
    target: str
    state: State
    intent: Intent
    sources: tuple[SourceProgress, ...]
    rows: int
    expected: int | None  # None while any source's total is unknown
    percent: float | None
    rate: float | None  # rows/s over the window; None when too little is known to say
    eta_s: float | None
    failed: int
    stalled_for_s: float | None  # how long past the last report, when stalled
    last_report_at: datetime | None
    valid: bool | None
    as_of: datetime


def percent(rows: int, expected: int | None) -> float | None:
    if expected is None:
        return None
    if expected == 0:
        return 100.0
    # Capped: a source that grew after it was counted must not show 104 %.
    return min(100.0, 100.0 * rows / expected)


def rate(window: Window, first_at: datetime | None, now: datetime, length: timedelta) -> float | None:
    """Rows per second over the sliding window.

    A report arrives when a chunk is finished, so the time spent on the first chunk seen is invisible.
    While the migration is younger than the window, n reports cover only n-1 observed intervals, so the
    rows are scaled by (n-1)/n over the time since the first report.
    """
    if first_at is None:
        return None
    if window.reports == 0:
        return 0.0
    if first_at <= now - length:
        return window.rows / length.total_seconds()
    elapsed = (now - first_at).total_seconds()
    if window.reports < 2 or elapsed <= 0:
        return None
    return window.rows * (window.reports - 1) / window.reports / elapsed


def eta(remaining: int | None, rows_per_s: float | None) -> float | None:
    """Seconds until done at the current rate; 0 when nothing remains; None when unknowable."""
    if remaining is None:
        return None
    if remaining <= 0:
        return 0.0
    if not rows_per_s or rows_per_s <= 0:
        return None
    return remaining / rows_per_s


def stalled_for(
    last_at: datetime | None, now: datetime, threshold: timedelta, *, done: bool, paused: bool
) -> float | None:
    """Seconds since the last report when that exceeds the threshold; None when not stalled.
    A finished, paused or never-started migration is not stalled: nobody is expected to report."""
    if done or paused or last_at is None:
        return None
    silent = now - last_at
    return silent.total_seconds() if silent > threshold else None


def valid(totals: SourceTotals, done: bool) -> bool | None:
    """✓ when the target holds exactly the expected rows and every compared checksum matched.

    A validation older than the source's last report says nothing about the chunks reported since.
    """
    if not done or totals.validated_at is None or totals.target_rows is None:
        return None
    if totals.last_at is not None and totals.validated_at < totals.last_at:
        return None
    return totals.target_rows == totals.expected and totals.checksums_mismatched == 0


def source_progress(totals: SourceTotals) -> SourceProgress:
    done = totals.expected is not None and totals.rows >= totals.expected
    return SourceProgress(
        source=totals.source,
        kind=totals.kind,
        expected=totals.expected,
        rows=totals.rows,
        bytes=totals.bytes,
        chunks_ok=totals.chunks_ok,
        failed=totals.failed,
        percent=percent(totals.rows, totals.expected),
        done=done,
        target_rows=totals.target_rows,
        checksums_compared=totals.checksums_compared,
        checksums_mismatched=totals.checksums_mismatched,
        valid=valid(totals, done),
    )


def all_of(verdicts: Sequence[bool | None]) -> bool | None:
    if any(v is False for v in verdicts):
        return False
    return True if verdicts and all(v is True for v in verdicts) else None


def progress(
    name: str,
    target: str,
    totals: Sequence[SourceTotals],
    window: Window,
    *,
    intent: Intent,
    now: datetime,
    window_length: timedelta,
    stall_after: timedelta,
) -> Progress:
    sources = tuple(source_progress(t) for t in totals)
    rows = sum(s.rows for s in sources)
    expected = None if any(s.expected is None for s in sources) else sum(s.expected or 0 for s in sources)
    firsts = [t.first_at for t in totals if t.first_at is not None]
    lasts = [t.last_at for t in totals if t.last_at is not None]
    last_at = max(lasts, default=None)
    done = bool(sources) and all(s.done for s in sources)
    per_s = rate(window, min(firsts, default=None), now, window_length)
    stall = stalled_for(last_at, now, stall_after, done=done, paused=intent == "pause")
    state: State = (
        "done"
        if done
        else "paused"
        if intent == "pause"
        else "waiting"
        if last_at is None
        else "stalled"
        if stall is not None
        else "running"
    )
    return Progress(
        name=name,
        target=target,
        state=state,
        intent=intent,
        sources=sources,
        rows=rows,
        expected=expected,
        percent=percent(rows, expected),
        rate=per_s,
        eta_s=eta(None if expected is None else expected - rows, per_s),
        failed=sum(s.failed for s in sources),
        stalled_for_s=stall,
        last_report_at=last_at,
        valid=all_of([s.valid for s in sources]),
        as_of=now,
    )
