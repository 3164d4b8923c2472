"""Test incidents, wherever a dbt test ran: the bot's own `/amd test` runs (stored results) and the
orchestrator's runs (the run_results.json their tasks kept, read only when AMD_DBT_RESULTS_DIR is set).
Both make the same incident, `test:<unique_id>`: the newest result of a test decides."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from bot.foundation.catalog import Catalog, Entity
from bot.foundation.ports import DagRunRef, RunState
from bot.foundation.run_results import RunTest
from bot.render import format as fmt
from bot.state.incidents import Cleared, Finding
from bot.state.results import FAILED

RUN_TESTS = "dbt results of orchestrator runs"  # the source's name, as the digest says it could not be read
_NAMED = 3  # unreadable files named in the digest; the others are counted


class Tested(Protocol):
    """A test's result as the watcher needs it: a stored `/amd test` result or a TestOutcome."""

    @property
    def unique_id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def failures(self) -> int: ...
    @property
    def severity(self) -> str: ...
    @property
    def model(self) -> str | None: ...


def test_key(unique_id: str) -> str:
    return f"test:{unique_id}"


def test_finding(
    test: Tested,
    entity: Entity | None,
    *,
    owner: str | None,
    dag: str | None,
    detail: Mapping[str, Any],
    at: datetime | None,  # when it ran: a run's end date, a stored result's time
) -> Finding | None:
    """The incident of a test that failed or errored; None when it did not (its incident resolves)."""
    if test.status not in FAILED:
        return None
    return Finding(
        key=test_key(test.unique_id),
        kind="test",
        subject=test.name,
        summary=f"test `{test.name}` {test.status}ed ({fmt.counted(test.failures, 'failing row')})",
        severity="critical" if test.severity == "error" else "warning",
        entity=entity.name if entity else None,
        dag=dag,
        owner=owner or (entity.owner if entity else None),
        channel=entity.support_channel if entity else None,
        detail={"unique_id": test.unique_id, "model": test.model, **detail},
        observed_at=at,
    )


def run_test_findings(
    catalog: Catalog, tests: Sequence[RunTest], runs: Mapping[DagRunRef, RunState]
) -> tuple[list[Finding], list[Cleared]]:
    """The incidents of the tests the runs' tasks kept results of, and the keys of those that passed.
    A test in two tasks of a run counts as failed if it failed in either."""
    by_model = entities_by_model(catalog)
    worst = {t.outcome.unique_id: t for t in sorted(tests, key=lambda t: t.outcome.status in FAILED)}
    found: list[Finding] = []
    cleared: list[Cleared] = []
    for uid, seen in worst.items():
        test, run = seen.outcome, runs[seen.run]
        # The run is the test's context: the digest puts the test under that run as its cause.
        detail = {"run_id": run.run_id, "task": seen.task_id, "url": run.url}
        owner = catalog.owner_of(test.model) if test.model else None
        entity = by_model.get(test.model or "")
        finding = test_finding(test, entity, owner=owner, dag=run.dag_id, detail=detail, at=run.ended_at)
        if finding is None:
            cleared.append(Cleared(test_key(uid), run.ended_at))
        else:
            found.append(finding)
    return found, cleared


def entities_by_model(catalog: Catalog) -> dict[str, Entity]:
    return {e.unique_id: e for e in catalog.entities.values()}


def named(unreadable: Sequence[str]) -> str:
    """A few of the unreadable files by name, the rest counted: the digest's line stays short."""
    more = len(unreadable) - _NAMED
    return "; ".join(unreadable[:_NAMED]) + (f" and {more:,} more" if more > 0 else "")
