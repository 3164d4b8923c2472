"""Pure readers of dbt's artifacts and JSON log events (schemas.getdbt.com: run-results v6, manifest
v12, sources v3). No I/O beyond reading a JSON file, so the benchmark and the tests can feed them
synthetic artifacts."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from bot.foundation.dbt_port import DbtProgress, SourceFreshness, TestOutcome, TestStatus
from bot.foundation.ports import Relation

# The node_status of a finished node in `--log-format json` events; "started", "compiling" and
# "executing" are the in-between states.
_FINISHED = frozenset({"success", "error", "fail", "warn", "pass", "skipped", "runtime error", "no-op"})
_TEST_STATUSES = frozenset({"pass", "warn", "fail", "error", "skipped"})


def load_json(path: Path) -> dict[str, Any] | None:
    """An artifact, or None when dbt did not write it (it stopped before, or never got that far)."""
    try:
        return cast(dict[str, Any], json.loads(path.read_bytes()))
    except FileNotFoundError:
        return None


def outcomes_from(run_results: Mapping[str, Any], manifest: Mapping[str, Any]) -> tuple[TestOutcome, ...]:
    """The data tests of a run, enriched from the manifest of the same invocation."""
    nodes: Mapping[str, Mapping[str, Any]] = manifest.get("nodes", {})
    outcomes = []
    for result in run_results.get("results", ()):
        uid: str = result["unique_id"]
        if not uid.startswith("test."):
            continue  # models and seeds of a `dbt build`, unit tests
        node = nodes.get(uid, {})
        config = node.get("config", {})
        status = result.get("status", "error")
        failures = int(result.get("failures") or 0)
        outcomes.append(
            TestOutcome(
                unique_id=uid,
                name=node.get("name") or uid.split(".")[2],
                status=cast(TestStatus, status if status in _TEST_STATUSES else "error"),
                failures=failures,
                message=result.get("message"),
                model=node.get("attached_node") or _first_model(node),
                column=node.get("column_name"),
                severity=str(config.get("severity") or "error").lower(),
                execution_time=float(result.get("execution_time") or 0.0),
                compiled_code=result.get("compiled_code"),
                failures_relation=_failures_relation(node, result) if failures else None,
            )
        )
    return tuple(outcomes)


def freshness_from(
    sources: Mapping[str, Any] | None, tracker: EventTracker, manifest: Mapping[str, Any] | None
) -> tuple[SourceFreshness, ...]:
    """sources.json leaves out sources that hit a runtime error; the log's events fill them in."""
    by_id: dict[str, SourceFreshness] = {}
    names = {uid: f"{s['source_name']}.{s['name']}" for uid, s in (manifest or {}).get("sources", {}).items()}
    for result in (sources or {}).get("results", ()):
        uid = result["unique_id"]
        by_id[uid] = SourceFreshness(
            unique_id=uid,
            name=names.get(uid, uid.split(".", 2)[-1]),
            status=result.get("status", "runtime error"),
            max_loaded_at=_timestamp(result.get("max_loaded_at")),
            age_s=result.get("max_loaded_at_time_ago_in_s"),
            error=result.get("error"),
        )
    for uid, status in tracker.statuses.items():
        if uid.startswith("source.") and uid not in by_id:
            name = names.get(uid, uid.split(".", 2)[-1])
            by_id[uid] = SourceFreshness(uid, name, status, None, None, error=tracker.errors.get(uid))
    return tuple(sorted(by_id.values(), key=lambda s: s.name))


@dataclass(frozen=True)
class NodeResult:
    unique_id: str
    name: str
    status: str  # as dbt reports it: success, error, fail, warn, pass, skipped, ...
    started_at: datetime | None
    ended_at: datetime | None


def nodes_from(run_results: Mapping[str, Any]) -> list[NodeResult]:
    """Every node of a run (models, tests, seeds) with its execute timing."""
    found = []
    for result in run_results.get("results", ()):
        timing = {t["name"]: t for t in result.get("timing", ())}
        execute = timing.get("execute") or timing.get("compile") or {}
        uid = result["unique_id"]
        found.append(
            NodeResult(
                unique_id=uid,
                name=uid.split(".")[2] if uid.count(".") >= 2 else uid,
                status=result.get("status", "error"),
                started_at=_timestamp(execute.get("started_at")),
                ended_at=_timestamp(execute.get("completed_at")),
            )
        )
    return found


@dataclass
class EventTracker:
    """Follows `--log-format json` events: progress (done/total) and each node's latest status."""

    total: int = 0
    statuses: dict[str, str] = field(default_factory=dict)  # unique_id -> node_status
    names: dict[str, str] = field(default_factory=dict)
    started: dict[str, datetime] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)  # unique_id -> dbt's error message

    @property
    def done(self) -> int:
        return sum(1 for s in self.statuses.values() if s in _FINISHED)

    def feed(self, event: Mapping[str, Any]) -> DbtProgress | None:
        """Record one event; a DbtProgress when a node finished (or the total became known)."""
        data = event.get("data", {})
        if event.get("info", {}).get("name") == "ConcurrencyLine":
            self.total = int(data.get("node_count") or 0)
            return DbtProgress(self.done, self.total)
        node = data.get("node_info")
        if not node or not node.get("unique_id"):
            return None
        uid, status = node["unique_id"], node.get("node_status")
        if event.get("info", {}).get("name") == "RunResultError":
            self.errors[uid] = str(event["info"].get("msg", "")).strip()
        if not status or status == "None":
            return None  # the end-of-run summary repeats node_info without a status
        was_finished = self.statuses.get(uid) in _FINISHED
        self.statuses[uid] = status
        self.names[uid] = node.get("node_name") or uid
        if status == "started" and node.get("node_started_at"):
            self.started[uid] = _timestamp(node["node_started_at"]) or datetime.now(UTC)
        if status in _FINISHED and not was_finished:
            return DbtProgress(self.done, max(self.total, self.done), last=self.names[uid])
        return None


def _failures_relation(node: Mapping[str, Any], result: Mapping[str, Any]) -> Relation | None:
    # run_results names the relation only when --store-failures (or the config) stored the rows.
    if not result.get("relation_name") or not node.get("schema"):
        return None
    return Relation(node.get("database"), node["schema"], node.get("alias") or node["name"])


def _first_model(node: Mapping[str, Any]) -> str | None:
    # Singular tests have no attached_node; the first model they read is the best owner hint.
    parents: Iterable[str] = node.get("depends_on", {}).get("nodes", ())
    return next((p for p in parents if p.startswith("model.")), None)


def _timestamp(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    # node_info carries naive timestamps; dbt takes them from utcnow().
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
