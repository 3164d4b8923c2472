"""Digests and immediate alerts as platform-neutral messages (Slack's limits stay in bot/render/slack.py).

A digest shows its top items, counts and "and N more"; the full list goes to its thread (a file when
it is long), so 10,000 open incidents are still one message.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.alerts.digest import Digest
from bot.alerts.lineage import Group
from bot.foundation.catalog import Catalog
from bot.render.format import counted, when
from bot.render.message import Actions, Button, Code, Context, Header, Message, Part, Text
from bot.state.incidents import Incident

TOP = 10  # groups listed in the message itself
MAX_AFFECTED = 5  # blast-radius items named per group before "and N more"
_ICON = {
    **{"run": ":x:", "test": ":x:", "stale": ":hourglass_flowing_sand:", "migration": ":warning:"},
    **{"paused": ":double_vertical_bar:", "missing": ":calendar:", "stuck": ":turtle:"},
}
SNOOZES: dict[str, int | None] = {
    "1h": 1,
    "24h": 24,
    "green": None,
}  # button value → hours (None: until it resolves)
_SNOOZE_LABEL = {"1h": "Snooze 1h", "24h": "Snooze 24h", "green": "Snooze until green"}


def digest_message(digest: Digest, catalog: Catalog) -> tuple[Message, Message | None]:
    """The digest, and the details for its thread (None when the full list went with it as a file)."""
    counts = f"*{digest.open_count:,} open* ({len(digest.new):,} new)"
    counts += f" · {len(digest.recovered):,} recovered · {digest.folded:,} acknowledged or snoozed"
    since = f"since {when(digest.since)}" if digest.since else "first digest"
    parts: list[Part] = [
        Header(f"Data digest: {digest.channel}"),
        Text(counts),
    ]
    if digest.owners:
        parts.append(Text("Owners: " + " ".join(catalog.owner_mention(o) for o in digest.owners)))
    parts += [Text(_group_line(g, digest.new)) for g in digest.groups[:TOP]]
    hidden = len(digest.groups) - TOP
    if hidden > 0:
        parts.append(Text(f"…and {hidden:,} more (the full list is in the thread)"))
    if digest.recovered:
        names = ", ".join(_recovered(i) for i in digest.recovered[:TOP])
        more = f" and {len(digest.recovered) - TOP:,} more" if len(digest.recovered) > TOP else ""
        parts.append(Text(f":white_check_mark: Recovered: {names}{more}"))
    parts += [
        Text(f":warning: Could not read the {source}: {why}") for source, why in digest.unreadable.items()
    ]
    if digest.unreadable:
        parts.append(Context(("This digest may be incomplete: the sources above were not read.",)))
    parts.append(Context((f"Route `{digest.route}` · {since} · until {when(digest.until)}",)))
    fallback = f"Data digest for {digest.channel}: {digest.open_count:,} open, {len(digest.new):,} new"
    full = _full_list(digest.groups)
    if hidden > 0:
        parts.append(Code(full, title=f"All {digest.open_count:,} open incidents"))
        return Message(tuple(parts), fallback=fallback, public=True), None
    details = Message((Code(full, title="Details"),), fallback="Details", public=True) if full else None
    return Message(tuple(parts), fallback=fallback, public=True), details


def _recovered(incident: Incident) -> str:
    """A run that failed and a later one that succeeded: both named, as both happened."""
    failed, recovered = incident.detail.get("run_id"), incident.detail.get("recovered_run_id")
    if incident.kind == "run" and recovered:
        return f"`{incident.subject}` (run `{failed}` failed, `{recovered}` succeeded)"
    return f"`{incident.subject}`"


def all_green(digest: Digest) -> Message:
    text = f":white_check_mark: All green in {digest.channel}: nothing failed, nothing stale."
    return Message((Text(text),), fallback=text, public=True)


def _group_line(g: Group, new: frozenset[str]) -> str:
    root = g.root
    badge = " *new*" if root.key in new else ""
    line = f"{_ICON[root.kind]}{badge} {root.summary}"
    if g.causes:
        line += "\n    cause: " + ", ".join(f"test `{c}`" for c in g.causes)
    if g.affected:
        named = ", ".join(f"`{i.subject}` ({i.kind})" for i in g.affected[:MAX_AFFECTED])
        more = f" and {len(g.affected) - MAX_AFFECTED:,} more" if len(g.affected) > MAX_AFFECTED else ""
        line += f"\n    blast radius: {named}{more}"
    if g.owners:
        line += f"\n    owner: {', '.join(g.owners)}"
    if url := root.detail.get("url"):
        line += f" · <{url}|log>"
    return line


def _full_list(groups: Sequence[Group]) -> str:
    lines = []
    for g in groups:
        for n, incident in enumerate(g.incidents):
            indent = "  " if n else ""
            since = when(incident.opened_at)
            lines.append(f"{indent}{incident.key} · {incident.owner or 'nobody'} · open since {since}")
    return "\n".join(lines)


def alert_message(incident: Incident, catalog: Catalog, *, now: datetime, affected: int = 0) -> Message:
    """An immediate alert: what failed (and how many findings it explains, in its thread), whose it
    is, the log, and buttons to act."""
    owner = catalog.owner_mention(incident.owner)
    again = f" (told {incident.notified + 1} times)" if incident.notified else ""
    more = f" + {counted(affected, 'downstream finding')}" if affected else ""
    text = f"{_ICON[incident.kind]} *{incident.summary}*{more}{again}\nowner: {owner}"
    if url := incident.detail.get("url"):
        text += f" · <{url}|log>"
    buttons = [Button("Acknowledge", "alerts.ack", incident.key, style="primary")]
    buttons += [Button(_SNOOZE_LABEL[s], "alerts.snooze", f"{s} {incident.key}") for s in SNOOZES]
    buttons.append(Button("Resolve", "alerts.resolve", incident.key))
    if incident.kind == "run" and incident.detail.get("failed_tasks") and incident.detail.get("run_id"):
        # The run command's own button: it asks first, with /amd run's access rules (run.rerun:<dag>).
        buttons.append(Button("Re-run failed", "run.rerun", f"{incident.dag} {incident.detail['run_id']}"))
    if incident.kind == "run" and incident.detail.get("run_id"):
        # A new run through the run form, prefilled with the failed run's conf (run.again:<dag>).
        again = f"{incident.dag} {incident.detail['run_id']}"
        buttons.append(Button("Re-run with parameters", "run.again", again))
    seen = f"first seen {when(incident.first_seen or now)} · `{incident.key}`"
    return Message(
        (Text(text), Context((seen,)), Actions(tuple(buttons))), fallback=incident.summary, public=True
    )


def recovered_message(incident: Incident, catalog: Catalog) -> Message:
    """The alert once its incident resolved: the same words, struck through by what happened — when,
    by which run or person, how long it lasted, who acknowledged it — and no buttons (a Re-run no
    longer makes sense)."""
    owner = catalog.owner_mention(incident.owner)
    text = f":white_check_mark: ~{incident.summary}~\nowner: {owner}"
    lasted = ""
    if incident.opened_at and incident.resolved_at:
        lasted = f" · lasted {_duration((incident.resolved_at - incident.opened_at).total_seconds())}"
    resolved_by = (
        incident.acted_by
        if incident.state == "resolved" and incident.acted_at == incident.resolved_at
        else None
    )
    run = incident.detail.get("recovered_run_id")
    by = f" by <@{resolved_by}>" if resolved_by else (f" by run `{run}`" if run else "")
    said = f"✓ recovered at {when(incident.resolved_at)}{by}{lasted}"
    acked = f"acknowledged by <@{incident.acted_by}>" if incident.acted_by and not resolved_by else None
    context = tuple(x for x in (said, acked, f"`{incident.key}`") if x)
    return Message((Text(text), Context(context)), fallback=f"recovered: {incident.summary}", public=True)


def thread_line(words: str) -> Message:
    """One line of an incident's timeline, in its alert's thread."""
    return Message((Text(words),), fallback=words, public=True)


def _duration(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def acted_message(incident: Incident, catalog: Catalog) -> Message:
    """The alert after a button: the same words, the buttons replaced by who did what when."""
    owner = catalog.owner_mention(incident.owner)
    text = f"{_ICON[incident.kind]} *{incident.summary}*\nowner: {owner}"
    what = state_words(incident)
    said = f":white_check_mark: {what} by <@{incident.acted_by}> at {when(incident.acted_at)}"
    return Message((Text(text), Context((said, f"`{incident.key}`"))), fallback=said, public=True)


def state_words(incident: Incident) -> str:
    if incident.state == "snoozed":
        return (
            f"snoozed until {when(incident.snoozed_until)}"
            if incident.snoozed_until
            else "snoozed until green"
        )
    return str(incident.state)


def open_lines(
    incidents: Sequence[Incident], *, now: datetime, which: str, shown: int, unread: Sequence[str]
) -> list[str]:
    """The unresolved incidents (e.g. of one entity or owner, `which`) as a headline and the first
    `shown` open ones; acknowledged and snoozed ones folded into a count. Sources the last sweep could
    not read are named: without them "none open" is no all-clear."""
    active = [i for i in incidents if i.state_at(now) == "open"]
    folded = len(incidents) - len(active)
    aside = f" ({folded:,} acknowledged or snoozed)" if folded else ""
    if active:
        head = f":red_circle: *{counted(len(active), 'open incident')}* for {which}{aside}:"
    elif unread:
        head = f":grey_question: No open incidents on record for {which}{aside}, but that may be incomplete:"
    else:
        head = f":white_check_mark: No open incidents for {which}{aside}."
    lines = [head]
    lines += [
        f"{_ICON[i.kind]} {i.summary} · owner: {i.owner or '—'} · open since {when(i.opened_at)}"
        for i in active[:shown]
    ]
    if len(active) > shown:
        lines.append(f"…and {len(active) - shown:,} more")
    lines += [f":warning: The last sweep could not read the {source}." for source in unread]
    return lines
