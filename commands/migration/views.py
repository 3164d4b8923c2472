"""Pure views of `/amd migration`: progress in, Messages out (the card, the list, thread notes, the
stall alert). No I/O, so golden files pin them and a benchmark can render thousands."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.foundation.migration_specs import MigrationSpec
from bot.migration.progress import Progress, SourceProgress
from bot.render import format as fmt
from bot.render.message import Actions, Button, Context, Fields, Header, Message, Table, Text

BAR_WIDTH = 20
MILESTONES = (25, 50, 75, 100)
SHOWN_FAILURES = 5
# Emoji the console renderer knows too (bot/render/console.py), so both faces read the same.
_STATE = {
    "waiting": ":hourglass_flowing_sand: waiting for the first chunk",
    "running": ":arrows_counterclockwise: running",
    "paused": ":large_blue_circle: paused by an operator",
    "stalled": ":warning: stalled",
    "done": ":heavy_check_mark: done",
}


def bar(percent: float | None, width: int = BAR_WIDTH) -> str:
    if percent is None:
        return "·" * width
    # Full only when complete: a bar that looks full at 99.6 % says "done" when it is not.
    filled = width if percent >= 100 else min(width - 1, round(width * percent / 100))
    return "█" * filled + "░" * (width - filled)


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} %"


def rows(done: int, expected: int | None) -> str:
    return f"{fmt.count(done)} / {'?' if expected is None else fmt.count(expected)}"


def throughput(rate: float | None, state: str = "running") -> str:
    return "—" if rate is None or state == "done" else f"{fmt.count(round(rate))} rows/s"


def eta(progress: Progress) -> str:
    if progress.state == "done":
        return "done"
    if progress.state == "paused" or progress.eta_s is None:
        return "—"
    return fmt.age(timedelta(seconds=progress.eta_s))


def mention(owner: str | None, owners: Mapping[str, str]) -> str:
    """A Slack id as a mention; an owner handle through `settings.owners`, else as plain text."""
    if not owner:
        return "nobody"
    slack_id = owners.get(owner, owner)
    if slack_id[:1] == "S" and slack_id[1:].isalnum() and slack_id.isupper():
        return f"<!subteam^{slack_id}>"
    if slack_id[:1] in ("U", "W") and slack_id[1:].isalnum() and slack_id.isupper():
        return f"<@{slack_id}>"
    return owner


def source_line(source: SourceProgress) -> str:
    failed = f" · :x: {source.failed} failed" if source.failed else ""
    checked = f" · valid {fmt.check(source.valid)}" if source.done else ""
    return (
        f"`{bar(source.percent)}` {percent(source.percent)}  *{source.source}* ({source.kind})  "
        f"{rows(source.rows, source.expected)}{failed}{checked}"
    )


def settled(progress: Progress, spec: MigrationSpec, now: datetime) -> bool:
    """A card stops updating once done and validated, or done and no validation came in time."""
    if progress.state != "done":
        return False
    if progress.valid is not None or progress.last_report_at is None:
        return True
    return now - progress.last_report_at > timedelta(seconds=spec.stall_after_s)


def card(
    progress: Progress, spec: MigrationSpec, failed: Sequence[tuple[str, str]], owners: Mapping[str, str]
) -> Message:
    summary = (
        f"*{_STATE[progress.state]}* · {rows(progress.rows, progress.expected)} rows "
        f"({percent(progress.percent)})"
    )
    if progress.stalled_for_s is not None:
        # A time, not an age: an age would change the card (a chat.update) every minute of the stall.
        summary += f" · no report since {fmt.when(progress.last_report_at)}"
    shown = ", ".join(f"{source} `{chunk}`" for source, chunk in failed[:SHOWN_FAILURES])
    more = (
        f" and {progress.failed - len(failed[:SHOWN_FAILURES])} more"
        if progress.failed > SHOWN_FAILURES
        else ""
    )
    parts: list[Any] = [
        Header(spec.title or spec.name),
        Text(summary),
        Text("\n".join(source_line(s) for s in progress.sources)),
        Fields(
            (
                ("Throughput", throughput(progress.rate, progress.state)),
                ("ETA", eta(progress)),
                ("Failed chunks", f"{progress.failed}: {shown}{more}" if progress.failed else "none"),
                ("Validation", _validation_text(progress)),
            )
        ),
        # No "as of" clock here: Slack shows when a message was edited, and a clock would cost
        # a chat.update every minute whether or not anything moved.
        Context(
            (
                f"`{spec.name}` → `{progress.target}` · owner {mention(spec.owner, owners)} · "
                f"last report {fmt.when(progress.last_report_at)}",
            )
        ),
    ]
    if progress.state != "done":
        intent = "resume" if progress.intent == "pause" else "pause"
        parts.append(Actions((Button(intent.capitalize(), f"migration.{intent}", spec.name),)))
    return Message(
        tuple(parts),
        fallback=f"{spec.name}: {progress.state}, {percent(progress.percent)}, "
        f"validation {_plain(progress.valid)}",
        public=True,
        live=True,
    )


def _validation_text(progress: Progress) -> str:
    if progress.valid is True:
        return ":white_check_mark: target counts and checksums match"
    wrong = [s for s in progress.sources if s.valid is False]
    if wrong:
        return ":x: " + "; ".join(_why(s) for s in wrong)
    return "after each source completes" if progress.state != "done" else "waiting for the copy job's check"


def _why(source: SourceProgress) -> str:
    reasons = []
    if source.target_rows != source.expected:
        expected = "?" if source.expected is None else fmt.count(source.expected)
        reasons.append(f"target has {fmt.count(source.target_rows or 0)} rows, expected {expected}")
    if source.checksums_mismatched:
        reasons.append(f"{source.checksums_mismatched} chunk checksum(s) differ")
    return f"*{source.source}*: {', '.join(reasons) or 'not validated'}"


def _plain(valid: bool | None) -> str:
    return {True: "passed", False: "FAILED", None: "pending"}[valid]


def listing(progresses: Sequence[Progress]) -> Message:
    if not progresses:
        return Message(
            (Text("No migrations are declared (settings: `migrations`)."),), fallback="no migrations"
        )
    table = Table(
        ("migration", "state", "progress", "rows", "rows/s", "ETA", "failed", "valid"),
        tuple(
            (
                p.name,
                p.state,
                percent(p.percent),
                rows(p.rows, p.expected),
                throughput(p.rate, p.state).removesuffix(" rows/s"),
                eta(p),
                str(p.failed),
                _plain(p.valid),
            )
            for p in progresses
        ),
        frozenset({2, 3, 4, 6}),
    )
    return Message(
        (
            Header("History migrations"),
            table,
            Context(("`/amd migration <name>` posts its live progress card",)),
        ),
        fallback=f"{len(progresses)} migration(s)",
    )


def follow_up(
    progress: Progress, failed: Sequence[tuple[str, str]], memo: Mapping[str, Any]
) -> tuple[tuple[Message, ...], dict[str, Any]]:
    """What happened since the card last looked (milestones, new failures, the validation verdict),
    as thread notes, and the memory for next time."""
    notes: list[Message] = []
    reached = max((m for m in MILESTONES if (progress.percent or 0) >= m), default=0)
    if reached > int(memo.get("milestone", 0)):
        done = rows(progress.rows, progress.expected)
        text = f":bar_chart: *{progress.name}* reached {reached} % ({done} rows)"
        notes.append(Message((Text(text),), fallback=text))
    seen = set(memo.get("failed", ()))
    new = [f"{source} `{chunk}`" for source, chunk in failed if f"{source} `{chunk}`" not in seen]
    if new:
        text = f":x: {len(new)} chunk(s) failed: " + ", ".join(new[:SHOWN_FAILURES])
        notes.append(Message((Text(text),), fallback=text))
    if progress.valid is not None and memo.get("valid") != progress.valid:
        text = f"Validation: {_validation_text(progress)}"
        notes.append(Message((Text(text),), fallback=f"validation {_plain(progress.valid)}"))
    now_failed = [f"{source} `{chunk}`" for source, chunk in failed]
    return tuple(notes), {
        **memo,
        "milestone": max(reached, int(memo.get("milestone", 0))),
        "failed": now_failed,
        "valid": progress.valid,
        "state": progress.state,
    }


def stall_alert(progress: Progress, spec: MigrationSpec, owners: Mapping[str, str]) -> Message:
    silent = fmt.age(timedelta(seconds=progress.stalled_for_s or 0))
    threshold = fmt.age(timedelta(seconds=spec.stall_after_s))
    text = (
        f":warning: Migration *{spec.name}* has stalled: no progress report for {silent} "
        f"(threshold {threshold}). It is at {percent(progress.percent)}, "
        f"{rows(progress.rows, progress.expected)} rows; last report {fmt.when(progress.last_report_at)}. "
        f"{mention(spec.owner, owners)}"
    )
    return Message((Text(text),), fallback=f"{spec.name} stalled for {silent}", public=True)
