"""Pure views of `/amd test`: a request and a dbt invocation in, a Message out. No I/O, so the cards
are pinned by golden files and the benchmark can render 10,000 results."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from bot.foundation.dbt_port import DbtInvocation, DbtProgress, SourceFreshness, TestOutcome
from bot.render import format as fmt
from bot.render.message import (
    Actions,
    Button,
    Code,
    Context,
    Divider,
    Fields,
    Header,
    Message,
    Part,
    Table,
    Text,
)

TOP_FAILURES = 8  # each shown failure is two blocks (line + buttons): 8 keep a card far below 50 blocks
TOP_SOURCES = 25
STATUSES = ("pass", "warn", "fail", "error", "skipped")
_ICON = {
    "pass": ":white_check_mark:",
    "warn": ":warning:",
    "fail": ":x:",
    "error": ":red_circle:",
    "skipped": ":large_blue_circle:",
}
_RANK = {"error": 0, "fail": 1, "warn": 2}
_SOURCE_RANK = {"runtime error": 0, "error": 1, "warn": 2, "pass": 3}


@dataclass(frozen=True)
class TestRequest:
    run_key: str
    command: str  # "test" | "source freshness"
    selector: str | None
    requested_by: str
    rerun_of: str | None = None  # run key whose failed tests this re-runs

    @property
    def title(self) -> str:
        if self.command == "source freshness":
            return "dbt source freshness"
        return f"dbt test: {self.selector}" if self.selector else "dbt test: every test"


@dataclass(frozen=True)
class Owners:
    """Who owns each tested model: unique_id -> owner handle, and how to mention a handle."""

    of_model: Mapping[str, str | None]
    mention: Mapping[str, str]  # owner handle -> `<@U…>` / `<!subteam^S…>`; missing: shown as text

    def shown(self, owner: str | None) -> str:
        return "no owner" if not owner else self.mention.get(owner, owner)


def progress_card(request: TestRequest, progress: DbtProgress | None) -> Message:
    if progress is None:
        status = ":hourglass_flowing_sand: Starting dbt…"
    elif progress.queued:
        status = f":hourglass_flowing_sand: Queued, position {progress.queued}: other dbt runs come first."
    elif progress.total == 0:
        status = ":arrows_counterclockwise: Running: dbt is parsing the project…"
    else:
        last = f" · last: `{progress.last}`" if progress.last else ""
        status = f":arrows_counterclockwise: Running: {progress.done} of {progress.total} done{last}"
    cancel = Button("Cancel", "test.cancel", request.run_key, style="danger")
    return Message(
        (Header(request.title), Text(status), _context(request), Actions((cancel,))),
        fallback=f"{request.title}: running",
        public=True,
        live=True,
    )


def result_card(request: TestRequest, result: DbtInvocation, owners: Owners) -> Message:
    if result.cancelled:
        return _ended(request, result, ":warning: Cancelled before it finished.")
    if result.timed_out:
        took = fmt.age(result.ended_at - result.started_at)
        status = (
            f":stopwatch: Stopped after {took}: longer than the time limit for dbt runs (AMD_DBT_TIMEOUT_S)."
        )
        return _ended(request, result, status)
    if result.exit_code == 2:
        return _ended(
            request, result, ":red_circle: dbt could not run.", Code(result.error or "", title="dbt said")
        )
    counts: Counter[str] = Counter(o.status for o in result.outcomes)
    failing = ranked_failures(result.outcomes)
    parts: list[Part] = [
        Header(request.title),
        Text(_verdict(counts, len(result.outcomes))),
        Fields(
            (
                ("Tests", " · ".join(f"{_ICON[s]} {counts[s]} {s}" for s in STATUSES)),
                ("Duration", fmt.age(result.ended_at - result.started_at)),
            )
        ),
    ]
    if failing:
        parts += [Divider(), *_failure_parts(request.run_key, failing[:TOP_FAILURES], owners)]
        if len(failing) > TOP_FAILURES:
            parts.append(Text(f"_…and {len(failing) - TOP_FAILURES} more; the full list is in the thread._"))
        if any(o.status in ("fail", "error") for o in failing):
            parts.append(Actions((Button("Re-run failed", "test.rerun", request.run_key, style="primary"),)))
    parts.append(_context(request, result))
    mentions = _mentions(failing, owners)
    return Message(
        tuple(parts), fallback=f"{request.title}: {_summary(counts)}", public=True, mentions=mentions
    )


def lost_card(request: TestRequest, reason: str) -> Message:
    """A run whose amd-bot process ended before it did: nothing runs it any more."""
    text = f":grey_question: Stopped: {reason} Run it again to get a result."
    parts = (Header(request.title), Text(text), _context(request))
    return Message(parts, fallback=f"{request.title}: stopped, {reason}", public=True)


def freshness_card(request: TestRequest, result: DbtInvocation) -> Message:
    if result.cancelled or result.exit_code == 2:
        return result_card(request, result, Owners({}, {}))
    ranked = sorted(result.sources, key=lambda s: (_SOURCE_RANK.get(s.status, 0), s.name))
    rows = tuple((s.name, s.status, fmt.when(s.max_loaded_at), _age(s)) for s in ranked[:TOP_SOURCES])
    counts = Counter(s.status for s in result.sources)
    stale = sum(n for status, n in counts.items() if status != "pass")
    verdict = (
        f":x: {stale} of {len(ranked)} sources late or unreadable."
        if stale
        else ":white_check_mark: Every source is fresh."
    )
    parts: list[Part] = [
        Header(request.title),
        Text(verdict),
        Table(("source", "status", "last load", "age"), rows),
    ]
    if len(ranked) > TOP_SOURCES:
        parts.append(Text(f"_…and {len(ranked) - TOP_SOURCES} more sources._"))
    parts.append(_context(request, result))
    return Message(tuple(parts), fallback=f"{request.title}: {stale} late", public=True)


def ranked_failures(outcomes: Sequence[TestOutcome]) -> list[TestOutcome]:
    """Tests that did not pass, worst first: errors, failures, warnings; most failing rows first."""
    return sorted(
        (o for o in outcomes if o.status in _RANK),
        key=lambda o: (_RANK[o.status], -o.failures, o.model or "", o.name),
    )


def failure_list(request: TestRequest, result: DbtInvocation, owners: Owners) -> Message:
    """Every test that did not pass, one line each, for the card's thread."""
    lines = [
        f"{o.status:5}  {o.failures:>8,}  {_model_name(o.model):30}  {o.name}  [column {o.column or '-'}, "
        f"severity {o.severity}, owner {owners.of_model.get(o.model or '') or '-'}]"
        for o in ranked_failures(result.outcomes)
    ]
    text = "\n".join(lines)
    return Message(
        (Code(text, title=f"{len(lines)} tests that did not pass"),),
        fallback=f"{request.title}: all failures",
    )


def owner_ping(request: TestRequest, result: DbtInvocation, owners: Owners) -> Message | None:
    """A thread reply that notifies: Slack does not notify mentions added by editing a message."""
    failing = [o for o in ranked_failures(result.outcomes) if o.status in ("fail", "error")]
    if not failing:
        return None
    by_owner = Counter(owners.shown(owners.of_model.get(o.model or "")) for o in failing)
    who = ", ".join(f"{owner} ({n} failing)" for owner, n in sorted(by_owner.items()))
    text = f"{who}: tests on your models failed in _{request.title}_, asked by <@{request.requested_by}>."
    return Message((Text(text),), fallback=text, public=True, mentions=_mentions(failing, owners))


def _failure_parts(run_key: str, failing: Sequence[TestOutcome], owners: Owners) -> list[Part]:
    parts: list[Part] = []
    for model in dict.fromkeys(o.model for o in failing):
        owner = owners.of_model.get(model or "")
        parts.append(
            Text(f"*{_model_name(model)}* · {'owner ' + owners.shown(owner) if owner else 'no owner in dbt'}")
        )
        for o in (o for o in failing if o.model == model):
            column = f" · column `{o.column}`" if o.column else ""
            parts.append(Text(f"{_ICON[o.status]} `{o.name}`: {_what(o)}{column} · severity {o.severity}"))
            buttons = (
                [Button("Show failing rows", "test.rows", f"{run_key} {o.unique_id}")]
                if o.failures_relation
                else []
            )
            if o.compiled_code:
                buttons.append(Button("Show SQL", "test.sql", f"{run_key} {o.unique_id}"))
            if buttons:
                parts.append(Actions(tuple(buttons)))
    return parts


def _what(o: TestOutcome) -> str:
    if o.status == "error":  # dbt could not run the test's query: its message says why
        return "error: " + fmt.reason(o.message)[:200]
    return f"{fmt.count(o.failures)} failing {'row' if o.failures == 1 else 'rows'}"


def _mentions(failing: Sequence[TestOutcome], owners: Owners) -> tuple[str, ...]:
    handles = dict.fromkeys(
        owners.of_model.get(o.model or "") for o in failing if o.status in ("fail", "error")
    )
    return tuple(owners.mention[h] for h in handles if h and h in owners.mention)


def _ended(request: TestRequest, result: DbtInvocation, status: str, *extra: Part) -> Message:
    parts = (Header(request.title), Text(status), *extra, _context(request, result))
    return Message(parts, fallback=f"{request.title}: {status.split(' ', 1)[1]}", public=True)


def _context(request: TestRequest, result: DbtInvocation | None = None) -> Context:
    texts = [f"asked by <@{request.requested_by}>", f"run `{request.run_key}`"]
    if request.rerun_of:
        texts.append(f"re-run of the failures of `{request.rerun_of}`")
    if result is not None:
        texts.append(f"finished {fmt.when(result.ended_at)}")
    return Context(tuple(texts))


def _verdict(counts: Counter[str], total: int) -> str:
    if total == 0:
        return ":grey_question: No tests matched the selection."
    bad = counts["fail"] + counts["error"]
    if bad:
        return f":x: {bad} of {total} tests failed."
    if counts["warn"]:
        return f":warning: All {total} tests passed, {counts['warn']} with warnings."
    return f":white_check_mark: All {total} tests passed."


def _summary(counts: Counter[str]) -> str:
    return ", ".join(f"{counts[s]} {s}" for s in STATUSES if counts[s]) or "no tests"


def _model_name(unique_id: str | None) -> str:
    return unique_id.split(".", 2)[-1] if unique_id else "(no model)"


def _age(source: SourceFreshness) -> str:
    if source.age_s is None:
        return fmt.reason(source.error, default="—")[:80]
    return fmt.age(timedelta(seconds=source.age_s))
