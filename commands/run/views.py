"""Pure views of `/amd run`: confirmations, run cards, their thread notes and `run status`. No I/O, so
every card is pinned by golden files, and the memo logic (what changed since the last tick) is tested
without an orchestrator."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any

from bot.foundation.ports import RunState, TaskState
from bot.render import format as fmt
from bot.render.message import Actions, Button, Context, Fields, Header, Message, Part, Table, Text
from commands.run.store import Confirmation

BUCKETS = ("succeeded", "running", "failed", "queued", "skipped")
_BUCKET = {
    "success": "succeeded",
    "running": "running",
    "restarting": "running",
    "deferred": "running",
    "up_for_retry": "running",
    "up_for_reschedule": "running",
    "failed": "failed",
    "upstream_failed": "skipped",  # never ran because something before it failed
    "skipped": "skipped",
    "removed": "skipped",
}  # anything else (queued, scheduled, none) has not started yet
_ICON = {"queued": ":hourglass_flowing_sand:", "running": ":arrows_counterclockwise:"}
_ICON |= {"success": ":white_check_mark:", "failed": ":x:"}
MAX_NAMED_FAILURES = 5
MAX_NOTE_LINES = 20
MAX_CONF_SHOWN = 600


@dataclass(frozen=True)
class RunMemo:
    """What a run card remembers between ticks (stored in the live card's memo, as JSON)."""

    state: str | None = None
    tasks: Mapping[str, str] = field(default_factory=dict)  # task id -> Airflow task state
    logs: Mapping[str, str] = field(default_factory=dict)  # failed task id -> its log's url
    rerun: bool = False  # the card follows a re-run of the failed tasks

    def dump(self) -> dict[str, Any]:
        return {"state": self.state, "tasks": dict(self.tasks), "logs": dict(self.logs), "rerun": self.rerun}

    @classmethod
    def load(cls, raw: Mapping[str, Any]) -> RunMemo:
        return cls(raw.get("state"), raw.get("tasks", {}), raw.get("logs", {}), bool(raw.get("rerun")))


def advance(memo: RunMemo, run: RunState, tasks: Sequence[TaskState] | None) -> tuple[RunMemo, list[str]]:
    """The memo after this tick and one line per change. `tasks` None: not re-read this tick (the run
    neither changed state nor is running), so the remembered ones stand."""
    changes = [] if memo.state in (None, run.state) else [f"Run: {memo.state} → *{run.state}*"]
    if tasks is None:
        return RunMemo(run.state, memo.tasks, memo.logs, memo.rerun), changes
    now = {t.task_id: t.state for t in tasks}
    for task_id, state in now.items():
        before = memo.tasks.get(task_id)
        if before is None:
            changes.append(f"`{task_id}`: {state}")
        elif before != state:
            changes.append(f"`{task_id}`: {before} → {state}")
    logs = {t.task_id: t.log_url for t in tasks if t.state == "failed" and t.log_url}
    return RunMemo(run.state, now, logs, memo.rerun), changes


def task_counts(tasks: Mapping[str, str]) -> Counter[str]:
    return Counter(_BUCKET.get(state, "queued") for state in tasks.values())


def confirmation_card(
    c: Confirmation,
    *,
    environment: str,
    entity: str | None = None,
    failed_tasks: Sequence[str] = (),
    problem: str | None = None,
) -> Message:
    """The question before anything starts. A re-run's confirmation is posted in its run card's thread
    (a button's answer would replace the card), so it is public; a trigger's only the requester sees."""
    rerun = c.kind == "rerun"
    dag = f"`{c.dag}`" + (f" (entity `{entity}`)" if entity else "")
    pairs = [("DAG", dag), ("Environment", environment)]
    if rerun:
        pairs.append(("Run", f"`{c.dag_run_id}`"))
        pairs.append(("Failed tasks", _names(failed_tasks) or "—"))
    else:
        pairs.append(("Logical date", _day_or_moment(c.logical_date) if c.logical_date else "— (now)"))
        pairs.append(("Conf", conf_text(c.conf)))
    pairs += [("Asked by", f"<@{c.requester}>"), ("Expires", fmt.when(c.expires_at))]
    question = f"Re-run the failed tasks of {c.dag}?" if rerun else f"Trigger {c.dag}?"
    parts: list[Part] = [Header(question), Fields(tuple(pairs))]
    if problem:
        parts.append(Text(f":warning: {problem} Press again to retry: it cannot start a second run."))
    value = f"{c.id} {c.dag}"
    buttons = [
        Button("Re-run failed tasks" if rerun else "Trigger", "run.trigger", value, style="primary"),
        Button("Cancel", "run.cancel", value),
    ]
    if not rerun:
        buttons.append(Button("Edit parameters", "run.edit", value))
    parts += [
        Actions(tuple(buttons)),
        Context((f"run id `{c.dag_run_id}`", f"only <@{c.requester}> or an amd-bot admin can press these")),
    ]
    return Message(tuple(parts), fallback=question, public=rerun)


def run_card(run: RunState, memo: RunMemo, *, requester: str | None, environment: str) -> Message:
    """`requester` None: a run the bot did not start (an unfurled link), so nobody is named."""
    counts = task_counts(memo.tasks)
    shown = [f"{counts[b]} {b}" for b in BUCKETS if counts[b] or b != "skipped"]
    title = f"Re-run of failed tasks: {run.dag_id}" if memo.rerun else f"Run {run.dag_id}"
    parts: list[Part] = [
        Header(title),
        Text(f"{_ICON[run.state]} *{run.state}* · {' · '.join(shown)}"),
        Fields(
            (
                ("Run", f"`{run.run_id}`"),
                ("Environment", environment),
                ("Logical date", fmt.when(run.logical_date)),
                ("Started", fmt.when(run.started_at)),
                ("Duration", duration(run)),
                ("Conf", conf_text(run.conf)),
                *([("Asked by", f"<@{requester}>")] if requester else []),
            )
        ),
    ]
    failed = [t for t, state in memo.tasks.items() if state == "failed"]
    if failed:
        parts.append(Text(f":x: Failed: {_names(failed, memo.logs)}"))
    buttons: list[Button] = []
    if run.url and run.url.startswith(("https://", "http://")):
        buttons.append(Button("Open in Airflow", "", url=run.url))
    elif run.url:
        parts.append(Context((f"<{run.url}|run log>",)))  # a local file: Slack link buttons need http(s)
    if run.state == "failed" and failed:
        buttons.append(Button("Re-run failed tasks", "run.rerun", f"{run.dag_id} {run.run_id}"))
    if run.state == "failed":
        buttons.append(Button("Re-run with parameters", "run.again", f"{run.dag_id} {run.run_id}"))
    if buttons:
        parts.append(Actions(tuple(buttons)))
    return Message(tuple(parts), fallback=_summary(title, run, failed), public=True, live=not run.finished)


def gone_card(dag_id: str, run_id: str, *, environment: str) -> Message:
    text = f"Run `{run_id}` of `{dag_id}` is no longer known to {environment}; stopped following it."
    return Message((Header(f"Run {dag_id}"), Text(f":grey_question: {text}")), fallback=text, public=True)


def changes_note(changes: Sequence[str]) -> Message:
    """One thread reply per tick, however many tasks moved: Slack allows ~1 post/s per channel."""
    lines = list(changes[:MAX_NOTE_LINES])
    if len(changes) > MAX_NOTE_LINES:
        lines.append(f"_…and {len(changes) - MAX_NOTE_LINES} more changes_")
    return Message((Text("\n".join(lines)),), fallback=lines[0], public=True)


def status_card(dag: str | None, runs: Sequence[RunState], *, now: datetime) -> Message:
    title = f"Latest runs of {dag}" if dag else "Latest runs"
    if not runs:
        return Message((Header(title), Text("No runs yet.")), fallback=f"{title}: none")
    rows = tuple(
        (r.dag_id, r.run_id, r.state, fmt.when(r.started_at), duration(r) if r.started_at else "—")
        for r in runs
    )
    table = Table(("DAG", "run", "state", "started", "duration"), rows)
    return Message(
        (Header(title), table, Context((f"as of {fmt.when(now)}",))),
        fallback=f"{title}: {runs[0].dag_id} {runs[0].state}",
    )


def duration(run: RunState) -> str:
    if run.started_at is None:
        return "not started"
    if run.ended_at is not None:
        return fmt.age(run.ended_at - run.started_at)
    # No running count beside "Started": a card whose text changes with the clock alone costs a
    # chat.update every tick (Tier 3) and tells the reader nothing new.
    return "still running"


def conf_text(conf: Mapping[str, Any]) -> str:
    if not conf:
        return "none"
    return f"`{_mrkdwn_safe(_cut(json.dumps(conf, ensure_ascii=False), MAX_CONF_SHOWN))}`"


def _names(tasks: Sequence[str], logs: Mapping[str, str] | None = None) -> str:
    """The first few task names, each with a link to its log when there is one."""
    shown = [
        f"`{t}` (<{logs[t]}|log>)" if logs and t in logs else f"`{t}`" for t in tasks[:MAX_NAMED_FAILURES]
    ]
    more = f" and {len(tasks) - MAX_NAMED_FAILURES} more" if len(tasks) > MAX_NAMED_FAILURES else ""
    return ", ".join(shown) + more


def _summary(title: str, run: RunState, failed: Sequence[str]) -> str:
    if run.state != "failed" or not failed:
        return f"{title} ({run.run_id}): {run.state}"
    names = ", ".join(failed[:MAX_NAMED_FAILURES])
    return f"{title} ({run.run_id}) failed: {fmt.counted(len(failed), 'failed task')}: {names}"


def _day_or_moment(moment: datetime) -> str:
    """`--date` gives midnight (a day); the form's picker any minute, which the card must not hide."""
    return moment.date().isoformat() if moment.time() == time() else fmt.when(moment)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _mrkdwn_safe(text: str) -> str:
    """User-typed conf values: Slack reads `<!channel>` even in code spans, and a backtick ends the span."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("`", "'")


def closed(c: Confirmation) -> Message:
    """The answer to a press on a confirmation that was decided (cancelled) or ran out of time."""
    if c.state == "cancelled":
        return reply(c, f"<@{c.decided_by}> cancelled this; nothing was started.")
    return reply(
        c,
        f"This confirmation expired at {c.expires_at:%H:%M} UTC; nothing was started. "
        f"Ask again with `/amd run {c.dag}`."
        if c.kind == "trigger"
        else "This confirmation expired; press Re-run failed tasks on the run's card again.",
    )


def reply(c: Confirmation, text: str) -> Message:
    # A button's answer replaces its message: a re-run's confirmation was public (in the card's
    # thread), a trigger's only its requester saw; the answer stays as visible as the question.
    return Message((Text(text),), fallback=text, public=c.kind == "rerun")


def link(run: RunState) -> str:
    return f"<{run.url}|{run.run_id}>" if run.url else f"`{run.run_id}`"
