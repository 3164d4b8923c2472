"""Incidents (what the failure watcher found) and the alert marks (watermarks), versions 7 and 10.

An incident has a stable key (`run:<dag>`, `test:<unique_id>`, `stale:<entity>`, `migration:<name>`,
`paused:<dag>`, `missing:<dag>`, `stuck:<dag>`): a DAG that fails every night is one incident, open
since its first failure and resolved by its next success (or a person). Every replica observes,
idempotently. Each observation carries when it was true (the source's own time, e.g. a run's end
date); an older one never undoes a newer: a stale read of a failure never reopens a newer resolution.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import JSON, Column, Integer, RowMapping, String, Table, Text, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.expression import case
from sqlalchemy.sql.functions import coalesce

from bot.foundation.alert_routes import AlertKind
from bot.state.marks import Marks
from bot.state.schema import UtcDateTime, metadata

IncidentState = Literal["open", "acknowledged", "snoozed", "resolved"]
Acted = Literal["acknowledged", "snoozed", "resolved"]  # what a person's button does

incidents = Table(
    "amd_incidents",
    metadata,
    Column("key", String(300), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("subject", String(300), nullable=False),  # the DAG, test, entity or migration
    Column("entity", String(200)),
    Column("dag", String(250)),
    Column("owner", String(200)),
    Column("channel", String(200)),  # the entity's support channel when the finding was made
    Column("severity", String(16), nullable=False),  # critical | warning
    Column("summary", Text, nullable=False),
    Column("detail", JSON, nullable=False),
    Column("state", String(16), nullable=False, index=True),
    Column("first_seen", UtcDateTime(), nullable=False),
    Column("last_seen", UtcDateTime(), nullable=False),
    Column("opened_at", UtcDateTime(), nullable=False),  # first seen, or seen again after it resolved
    Column("resolved_at", UtcDateTime(), index=True),
    Column("acted_by", String(64)),  # who acknowledged or snoozed it
    Column("acted_at", UtcDateTime()),
    Column("snoozed_until", UtcDateTime()),
    Column("notified", Integer, nullable=False, default=0),  # immediate alerts sent so far
    Column("notified_at", UtcDateTime()),
    Column("alert", JSON),  # {"channel": …, "ts": …} of the last immediate alert, updated by its buttons
    # When the newest observation applied (failing or healthy) was true, in the source's own time.
    Column("observed_at", UtcDateTime()),
)


@dataclass(frozen=True)
class Finding:
    key: str
    kind: AlertKind
    subject: str
    summary: str
    severity: Literal["critical", "warning"] = "warning"
    entity: str | None = None
    dag: str | None = None
    owner: str | None = None
    channel: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)
    observed_at: datetime | None = None  # when the source saw it (a run's end date); None: the sweep's time


@dataclass(frozen=True)
class Cleared:
    """A source read healthy for an incident's key: it resolves unless a newer failure was observed."""

    key: str
    observed_at: datetime | None = None  # as in Finding
    detail: Mapping[str, Any] = field(default_factory=dict)  # added to the incident's (the recovering run)


@dataclass(frozen=True)
class Incident(Finding):
    state: IncidentState = "open"
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    opened_at: datetime | None = None
    resolved_at: datetime | None = None
    acted_by: str | None = None
    acted_at: datetime | None = None
    snoozed_until: datetime | None = None
    notified: int = 0
    notified_at: datetime | None = None
    alert: Mapping[str, str] | None = None

    def state_at(self, now: datetime) -> IncidentState:
        """A snooze that ran out is open again (a snooze until green has no end: `snoozed_until` None)."""
        if self.state == "snoozed" and self.snoozed_until is not None and self.snoozed_until <= now:
            return "open"
        return self.state


_FINDING_COLUMNS = tuple(Finding.__dataclass_fields__)


class Incidents(Marks):
    async def observe(
        self, found: Iterable[Finding], cleared: Iterable[Cleared | str], now: datetime
    ) -> None:
        """Record what a sweep found, and resolve the incidents whose source now reads healthy (a key
        alone: healthy at `now`); an observation older than the incident's newest changes nothing."""
        async with self._engine.begin() as conn:
            for finding in sorted(found, key=lambda f: f.key):  # one lock order on every replica (marks.py)
                await _upsert(conn, finding, now)
            await _resolve(conn, cleared, now)

    async def all(self, *, since: datetime | None = None) -> list[Incident]:
        """Every unresolved incident, and those resolved at or after `since`."""
        c = incidents.c
        query = select(incidents).where(
            or_(c.state != "resolved", c.resolved_at >= since) if since else c.state != "resolved"
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query.order_by(c.opened_at, c.key))).mappings().all()
        return [_incident(r) for r in rows]

    async def get(self, key: str) -> Incident | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(incidents).where(incidents.c.key == key))).mappings().first()
        return None if row is None else _incident(row)

    async def act(self, key: str, state: Acted, *, by: str, now: datetime, until: datetime | None) -> bool:
        """Acknowledge, snooze (until a time, or with `until` None until it resolves) or resolve (a
        person fixed it) an incident that is not resolved; False when there is none."""
        c = incidents.c
        # Resolved by a person now: a failure that ended before (the run they fixed, read again by the
        # next sweep or a slow replica) does not reopen it; one that ends after does.
        newest = case((c.observed_at > now, c.observed_at), else_=now)
        resolved = {"resolved_at": now, "observed_at": newest} if state == "resolved" else {}
        async with self._engine.begin() as conn:
            done = await conn.execute(
                update(incidents)
                .where(c.key == key, c.state != "resolved")
                .values(state=state, acted_by=by, acted_at=now, snoozed_until=until, **resolved)
            )
        return bool(done.rowcount)

    async def expire_snoozes(self, now: datetime) -> None:
        """A snooze that ran out makes its incident open again, to be told once (its last telling is
        forgotten) and then at the re-notify interval. Idempotent: every replica may run it."""
        c = incidents.c
        async with self._engine.begin() as conn:
            await conn.execute(
                update(incidents)
                .where(c.state == "snoozed", c.snoozed_until.is_not(None), c.snoozed_until <= now)
                .values(state="open", snoozed_until=None, notified_at=None)
            )

    async def notified(self, incident: Incident, *, at: datetime, channel: str, ts: str) -> None:
        """Count an immediate alert that Slack accepted (its claim made it happen once)."""
        async with self._engine.begin() as conn:
            await conn.execute(
                update(incidents)
                .where(incidents.c.key == incident.key, incidents.c.notified == incident.notified)
                .values(notified=incident.notified + 1, notified_at=at, alert={"channel": channel, "ts": ts})
            )


async def _upsert(conn: AsyncConnection, finding: Finding, now: datetime) -> None:
    at = finding.observed_at or now
    values = {k: getattr(finding, k) for k in _FINDING_COLUMNS} | {
        "detail": dict(finding.detail),
        "observed_at": at,
    }
    c = incidents.c
    try:
        async with conn.begin_nested():  # a savepoint: another replica may insert the same key first
            await conn.execute(
                insert(incidents).values(
                    **values, state="open", first_seen=now, last_seen=now, opened_at=now, notified=0
                )
            )
            return
    except IntegrityError:
        pass
    # Only a newer observation rewrites it: the same one read again (a replica whose mark had moved reads
    # a narrower window) would drop what the wider read added, e.g. a DAG's earlier failed runs.
    await conn.execute(
        update(incidents)
        .where(c.key == finding.key, c.state != "resolved", or_(c.observed_at.is_(None), c.observed_at < at))
        .values(**values, last_seen=now)
    )
    reopened = {"state": "open", "opened_at": now, "resolved_at": None, "acted_by": None, "acted_at": None}
    # Only a failure newer than the resolution reopens (before version 10, resolved_at is the best guess).
    await conn.execute(
        update(incidents)
        .where(c.key == finding.key, c.state == "resolved", coalesce(c.observed_at, c.resolved_at) < at)
        .values(**values, **reopened, last_seen=now, snoozed_until=None)
    )


async def _resolve(conn: AsyncConnection, cleared: Iterable[Cleared | str], now: datetime) -> None:
    c = incidents.c
    by_time: dict[datetime, list[Cleared]] = {}
    for healthy in (Cleared(h) if isinstance(h, str) else h for h in cleared):
        by_time.setdefault(healthy.observed_at or now, []).append(healthy)
    for at, batch in by_time.items():  # one statement per time: a sweep's clearings share a few times
        newest = or_(c.observed_at.is_(None), c.observed_at <= at)
        plain = [h.key for h in batch if not h.detail]
        resolved = {"state": "resolved", "resolved_at": now, "snoozed_until": None, "observed_at": at}
        if plain:
            await conn.execute(
                update(incidents).where(c.key.in_(plain), c.state != "resolved", newest).values(**resolved)
            )
        # The failure's detail is kept, the recovery's added: one read for the batch, a write per incident
        # that was open (few), so every healthy reading may carry its detail at no cost per sweep.
        rich = {h.key: dict(h.detail) for h in batch if h.detail}
        wanted = select(c.key, c.detail).where(c.key.in_(list(rich)), c.state != "resolved", newest)
        for row in (await conn.execute(wanted)).all() if rich else ():
            await conn.execute(
                update(incidents)
                .where(c.key == row.key, c.state != "resolved", newest)
                .values(**resolved, detail={**row.detail, **rich[row.key]})
            )
        # Already resolved: the mark of the newest healthy reading moves on, so a failure older than it
        # (a slow replica's) does not reopen the incident either.
        keys = [h.key for h in batch]
        await conn.execute(
            update(incidents)
            .where(c.key.in_(keys), c.state == "resolved", c.observed_at < at)
            .values(observed_at=at)
        )


def _incident(row: RowMapping) -> Incident:
    return Incident(**{k: row[k] for k in Incident.__dataclass_fields__})
