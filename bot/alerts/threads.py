"""One thread per incident, one top-level message per root cause (issue 22).

The first alert of an incident in a channel is its thread's root. Repeats are replies in that thread;
a finding the lineage explains by an open incident (the failing test of a failed run, an entity
downstream going stale) is a line in the root incident's thread, and the root's headline counts them;
a recovery edits the root in place and says so in the thread. Each edit and line is a delivery with
its own key (bot/alerts/delivery.py): done once across replicas.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.alerts.delivery import Effect, Sender
from bot.alerts.lineage import group
from bot.alerts.views import alert_message, recovered_message, thread_line
from bot.foundation.catalog import Catalog
from bot.foundation.ports import CardRef
from bot.render.format import when
from bot.state.deliveries import Delivery
from bot.state.incidents import Incident, Incidents

__all__ = [
    "Delivery",
    "Known",
    "join",
    "joined_line",
    "joining",
    "joins",
    "recover",
    "repeat_line",
    "rerun_line",
]


class Known:
    """What was delivered about a tick's incidents, read in one query."""

    def __init__(self, deliveries: Sequence[Delivery]) -> None:
        self._rows: list[Delivery] = []
        self._posted: set[str] = set()
        self._roots: dict[tuple[str, str], CardRef] = {}
        self.learn(deliveries)

    def learn(self, deliveries: Sequence[Delivery]) -> None:
        """What was delivered since (in this tick): an alert just posted is a thread to join."""
        self._rows += deliveries
        self._posted |= {d.key for d in deliveries if d.state == "posted"}
        for d in deliveries:  # oldest first: the newest top-level alert is the thread's root
            if d.kind == "alert" and d.state == "posted" and d.ts and d.incident:
                self._roots[d.incident, d.channel] = CardRef(d.posted_channel or d.channel, d.ts)

    def root(self, incident: str, channel: str) -> CardRef | None:
        return self._roots.get((incident, channel))

    def threads(self, incident: str, channels: Sequence[str]) -> list[str]:
        """Those of `channels` where the incident's alert has a thread."""
        return [c for c in channels if (incident, c) in self._roots]

    def posted(self, key: str) -> bool:
        return key in self._posted

    def unfinished(self, incident: str, *, before: int) -> list[Delivery]:
        """This incident's alerts of notifications before `before` that are not posted: refused by
        their channel, or left maybe-posted by a replica that died while retrying one."""
        prefix = f"alert:{incident}:"
        return [
            d
            for d in self._rows
            if d.state != "posted"
            and d.key.startswith(prefix)
            and d.key[len(prefix) :].split(":", 1)[0].isdigit()
            and int(d.key[len(prefix) :].split(":", 1)[0]) < before
        ]


def joining(incidents: Sequence[Incident], catalog: Catalog, *, now: datetime) -> dict[str, Incident]:
    """Each open incident the lineage explains by another open one: affected key → its root."""
    open_ = [i for i in incidents if i.state_at(now) != "resolved"]
    return {a.key: g.root for g in group(open_, catalog) for a in g.affected if a.key != g.root.key}


async def join(
    sender: Sender,
    incident: Incident,
    root: Incident,
    threaded: Sequence[str],
    known: Known,
    *,
    affected: int,
    now: datetime,
) -> list[str]:
    """`incident` told as a line in `root`'s thread (in each of the `threaded` channels, where root has
    one), and root's headline edited to count the `affected` incidents that joined it."""
    keys = []
    headline = alert_message(root, sender.backends.catalog, now=now, affected=affected)
    line = joined_line(incident, root)
    for channel in threaded:
        thread = known.root(root.key, channel)
        if thread is None:
            continue
        key = f"alert:{incident.key}:{incident.notified}:{channel}"
        await sender.send(
            Effect(key, "line", channel, thread_line(line), incident=root.key, thread=thread, line=line)
        )
        keys.append(key)
        counted = f"headline:{root.key}:{root.opened_at}:{affected}:{channel}"
        await sender.send(Effect(counted, "edit", channel, headline, incident=root.key, edit=thread))
    return keys


def joins(incident: Incident, now: datetime) -> bool:
    """A finding the lineage explains is a line in its root's thread once each time it opens; telling
    again who has not acknowledged is its root's alert's job."""
    told, opened = incident.notified_at, incident.opened_at
    return incident.state_at(now) == "open" and (told is None or (opened is not None and opened > told))


def joined_line(incident: Incident, root: Incident) -> str:
    return f"↳ also {incident.summary} (caused by `{root.key}`)"


async def recover(
    sender: Sender, incident: Incident, wanted: Sequence[str], known: Known, catalog: Catalog
) -> None:
    """A resolved incident's alert, edited to say so (its buttons gone), and a line in its thread."""
    if incident.resolved_at is None:
        return
    episode = incident.resolved_at.isoformat()
    for channel in wanted:
        root = known.root(incident.key, channel)
        edit_key = f"recovered:{incident.key}:{episode}:{channel}"
        line_key = f"recovered-line:{incident.key}:{episode}:{channel}"
        if root is None or (known.posted(edit_key) and known.posted(line_key)):
            continue
        await sender.send(
            Effect(edit_key, "edit", channel, recovered_message(incident, catalog), incident.key, edit=root)
        )
        words = recovered_line(incident)
        await sender.send(
            Effect(line_key, "line", channel, thread_line(words), incident.key, thread=root, line=words)
        )


def recovered_line(incident: Incident) -> str:
    if incident.acted_by and incident.acted_at == incident.resolved_at:
        return f"✓ resolved by <@{incident.acted_by}> at {when(incident.resolved_at)}"
    by = incident.detail.get("recovered_run_id")
    run = f" by run `{by}`" if by else ""
    return f"✓ recovered at {when(incident.resolved_at)}{run}"


def repeat_line(incident: Incident, *, reopened: bool) -> str:
    if reopened:
        return f"↻ failed again at {when(incident.opened_at)}: {incident.summary}"
    return f"↻ still open, not acknowledged (told {incident.notified + 1} times)"


async def rerun_line(sender: Sender, dag: str, *, by: str, run: str, now: datetime) -> None:
    """Re-run pressed on a failed run's alert and confirmed: a line in its incident's thread (the
    timeline `/amd alerts run:<dag>` shows) naming who and linking the run that now runs again."""
    key = f"run:{dag}"
    incident = await Incidents(sender.backends.state.engine).get(key)
    where = (incident.alert if incident else None) or {}
    if not where.get("ts"):
        return  # never alerted: no thread to tell
    words = f"↻ re-run requested by <@{by}> at {when(now)}: {run}"
    thread = CardRef(where["channel"], where["ts"])
    said = thread_line(words)
    await sender.send(
        Effect(f"rerun:{key}:{now.isoformat()}", "line", thread.channel, said, key, thread, line=words)
    )
