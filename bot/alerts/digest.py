"""What one digest says: for a (route, channel) and the window since its watermark, the open incidents
grouped by root cause, what is new, what recovered, how many are acknowledged or snoozed, and which
sources could not be read. Pure: the incidents, the catalog and the clock come in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from apscheduler.triggers.cron import CronTrigger

from bot.alerts.lineage import Group, group
from bot.foundation.alert_routes import AlertRoute
from bot.foundation.catalog import Catalog
from bot.foundation.settings import Settings
from bot.state.incidents import Incident


@dataclass(frozen=True)
class Digest:
    route: str
    channel: str
    since: datetime | None
    until: datetime
    groups: tuple[Group, ...]
    new: frozenset[str]  # keys of incidents opened in the window
    recovered: tuple[Incident, ...]
    folded: int  # acknowledged or snoozed: counted, not listed
    unreadable: Mapping[str, str] = field(default_factory=dict)

    @property
    def quiet(self) -> bool:
        # Acknowledged and snoozed items are someone's already: alone they are no reason to speak.
        return not (self.groups or self.recovered or self.unreadable)

    @property
    def open_count(self) -> int:
        return sum(len(g.incidents) for g in self.groups)

    @property
    def owners(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(o for g in self.groups for o in g.owners))


def takes(route: AlertRoute, incident: Incident) -> bool:
    return route.takes(
        kind=incident.kind,
        owner=incident.owner,
        entity=incident.entity,
        dag=incident.dag,
        severity=incident.severity,
    )


def channel_of(route: AlertRoute, incident: Incident, fallback: str | None = None) -> str | None:
    """The route's channel, else the incident's own, else the fallback: never silently nowhere."""
    return route.channel or incident.channel or fallback


def channels(route: AlertRoute, incidents: Sequence[Incident], fallback: str | None = None) -> list[str]:
    """Where a route's digests go: its channel, or each incident's own (the fallback for those
    without one)."""
    found = {c for i in incidents if takes(route, i) and (c := channel_of(route, i, fallback))}
    return sorted(found)


def build(
    route: AlertRoute,
    channel: str,
    incidents: Sequence[Incident],
    catalog: Catalog,
    *,
    since: datetime | None,
    now: datetime,
    unreadable: Mapping[str, str] | None = None,
    fallback: str | None = None,
) -> Digest:
    mine = [i for i in incidents if takes(route, i) and channel_of(route, i, fallback) == channel]
    states = {i.key: i.state_at(now) for i in mine}
    open_ = [i for i in mine if states[i.key] == "open"]
    recovered = tuple(
        i
        for i in mine
        if states[i.key] == "resolved" and i.resolved_at and (since is None or i.resolved_at >= since)
    )
    new = frozenset(i.key for i in open_ if since is None or (i.opened_at and i.opened_at >= since))
    return Digest(
        route=route.name,
        channel=channel,
        since=since,
        until=now,
        groups=tuple(group(open_, catalog)),
        new=new,
        recovered=recovered,
        folded=sum(1 for s in states.values() if s in ("acknowledged", "snoozed")),
        unreadable=dict(unreadable or {}),
    )


def fallback_channel(settings: Settings) -> str | None:
    """Where delivery problems and incidents without a channel go: AMD_ALERT_FALLBACK_CHANNEL, else
    the first route with a fixed channel."""
    fixed = next((r.channel for r in settings.alert_routes if r.channel), None)
    return settings.alert_fallback_channel or fixed


def route_named(routes: Sequence[AlertRoute], name: str | None) -> AlertRoute | None:
    if name is None:
        return routes[0] if routes else None
    return next((r for r in routes if r.name == name), None)


def due_window(trigger: CronTrigger, last: datetime | None, now: datetime) -> datetime | None:
    """The newest scheduled time in (last, now]: several missed windows are one digest."""
    if last is None:
        return None
    due = None
    fire = trigger.get_next_fire_time(None, last + timedelta(microseconds=1))
    while fire is not None and fire <= now:
        due = fire
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    return due
