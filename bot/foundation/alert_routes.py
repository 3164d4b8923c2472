"""Alert routes as settings: which incidents go to which channel, on what digest schedule, and which
kinds are worth an immediate alert. With none configured, one default route sends everything to each
entity's `support_channel` (a migration's alerts: its own channel)."""

from __future__ import annotations

from datetime import tzinfo
from fnmatch import fnmatchcase
from typing import Literal, Self
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from pydantic import BaseModel, ConfigDict, Field, model_validator

# paused, missing, stuck: a DAG that stopped (paused, its scheduled run never started, a run that hangs)
AlertKind = Literal["run", "test", "stale", "migration", "paused", "missing", "stuck"]
Severity = Literal["warning", "critical"]
ALL_KINDS: tuple[AlertKind, ...] = ("run", "test", "stale", "migration", "paused", "missing", "stuck")
IMMEDIATE: tuple[AlertKind, ...] = ("run", "paused", "missing", "stuck")


class AlertRoute(BaseModel):
    # A misspelled key (`acton`) must not silently fall back to its default (`*`: everything).
    model_config = ConfigDict(extra="forbid")

    name: str = Field("default", pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    channel: str | None = None  # None: each incident's own support channel
    kinds: list[AlertKind] = Field(default_factory=lambda: list(ALL_KINDS))
    owners: list[str] = Field(default_factory=lambda: ["*"])  # owner handles (globs)
    entities: list[str] = Field(default_factory=lambda: ["*"])  # entity names (globs)
    dags: list[str] = Field(default_factory=lambda: ["*"])  # DAG ids (globs)
    min_severity: Severity = "warning"
    schedule: str = "0 8 * * 1-5"  # the digest's cron (minute hour day month weekday)
    timezone: str = "UTC"
    # Kinds told at once (one message within a poll) when critical: a production DAG failed or stopped.
    immediate: list[AlertKind] = Field(default_factory=lambda: list(IMMEDIATE))
    all_green: bool = False  # post "all green" when there is nothing to say (default: stay quiet)

    @model_validator(mode="after")
    def _valid_schedule(self) -> Self:
        self.trigger()  # raises ValueError for a bad cron expression or an unknown time zone
        return self

    def trigger(self) -> CronTrigger:
        return CronTrigger.from_crontab(self.schedule, timezone=self.zone())

    def zone(self) -> tzinfo:
        return ZoneInfo(self.timezone)

    def takes(
        self, *, kind: str, owner: str | None, entity: str | None, dag: str | None, severity: str
    ) -> bool:
        """Whether an incident with these properties belongs to this route (a missing value matches `*`)."""
        return (
            kind in self.kinds
            and (severity == "critical" or self.min_severity == "warning")
            and _any(owner, self.owners)
            and _any(entity, self.entities)
            and _any(dag, self.dags)
        )


def _any(value: str | None, patterns: list[str]) -> bool:
    return any(fnmatchcase(value or "", p) or p == "*" for p in patterns)


def default_routes() -> list[AlertRoute]:
    return [AlertRoute()]
