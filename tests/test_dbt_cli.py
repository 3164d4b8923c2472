"""DbtCliRunner on the real demo dbt project: results, errors, isolation, the queue and cancelling.
Artifact parsing and the FIFO gate are also pinned on small synthetic inputs."""

from __future__ import annotations

import asyncio
import json

import duckdb
import pytest

from bot.adapters.dbt.artifacts import EventTracker, freshness_from, outcomes_from
from bot.adapters.dbt.cli import DbtCliRunner
from bot.adapters.dbt.gate import FifoGate
from bot.foundation.dbt_port import DbtInvocation, DbtProgress
from bot.foundation.ports import Relation
from bot.foundation.settings import Settings

FAILING = "non_negative_payment_amount_cents"


def by_name(invocation: DbtInvocation) -> dict[str, str]:
    return {o.name: o.status for o in invocation.outcomes}


async def until(predicate: object, timeout: float = 60.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():  # type: ignore[operator]
            await asyncio.sleep(0.05)


# --- on the demo project ---------------------------------------------------------------------------


@pytest.mark.slow
async def test_a_passing_selection_passes(demo_settings: Settings) -> None:
    progress: list[DbtProgress] = []

    async def record(p: DbtProgress) -> None:
        progress.append(p)

    result = await DbtCliRunner(demo_settings).test("user", run_key="t-user", on_progress=record)

    assert result.exit_code == 0
    assert result.outcomes
    assert {o.status for o in result.outcomes} == {"pass"}
    assert {o.model for o in result.outcomes} == {"model.amd.user"}  # cautious: no other model's tests
    assert progress[-1].done == progress[-1].total == len(result.outcomes)


@pytest.mark.slow
async def test_the_demo_failing_test_names_its_model_count_and_owner(demo_settings: Settings) -> None:
    result = await DbtCliRunner(demo_settings).test("payment", run_key="t-payment")

    assert result.exit_code == 1
    failed = [o for o in result.outcomes if o.status == "fail"]
    assert [o.name for o in failed] == [FAILING]
    outcome = failed[0]
    with duckdb.connect(str(demo_settings.warehouse_path), read_only=True) as db:
        (negative,) = db.execute("select count(*) from amd.payment where amount_cents < 0").fetchone() or (0,)
        assert outcome.failures_relation is not None
        rel = outcome.failures_relation
        (stored,) = db.execute(f'select count(*) from "{rel.schema}"."{rel.name}"').fetchone() or (0,)
    assert 0 < outcome.failures == negative == stored
    assert (outcome.model, outcome.column, outcome.severity) == ("model.amd.payment", "amount_cents", "error")
    assert outcome.compiled_code is not None
    assert "amount_cents < 0" in outcome.compiled_code
    manifest = json.loads(demo_settings.manifest_path.read_text())
    assert manifest["nodes"][outcome.model]["config"]["meta"]["owner"] == "payments-team"


@pytest.mark.slow
async def test_a_broken_selector_is_an_error_not_a_failure(demo_settings: Settings) -> None:
    result = await DbtCliRunner(demo_settings).test("nosuchmethod:payment", run_key="t-broken")

    assert result.exit_code == 2
    assert result.outcomes == ()
    assert result.error is not None
    assert "nosuchmethod" in result.error


@pytest.mark.slow
async def test_two_concurrent_runs_do_not_interfere(demo_settings: Settings) -> None:
    runner = DbtCliRunner(demo_settings)

    users, payments = await asyncio.gather(
        runner.test("user", run_key="t-con-user"), runner.test("payment", run_key="t-con-payment")
    )

    assert (users.exit_code, payments.exit_code) == (0, 1)
    assert {o.model for o in users.outcomes} == {"model.amd.user"}
    assert {o.model for o in payments.outcomes} == {"model.amd.payment"}
    assert by_name(payments)[FAILING] == "fail"
    assert users.invocation_id != payments.invocation_id
    runs = demo_settings.home / "dbt" / "runs"
    for key, invocation in (("t-con-user", users), ("t-con-payment", payments)):
        artifacts = json.loads((runs / key / "target" / "run_results.json").read_text())
        assert artifacts["metadata"]["invocation_id"] == invocation.invocation_id


@pytest.mark.slow
async def test_a_second_request_waits_in_line_at_position_one(demo_settings: Settings) -> None:
    runner = DbtCliRunner(demo_settings.model_copy(update={"dbt_max_concurrency": 1}))
    seen: list[DbtProgress] = []

    async def record(p: DbtProgress) -> None:
        seen.append(p)

    first = asyncio.create_task(runner.test("user", run_key="t-q-first"))
    await until(lambda: (demo_settings.home / "dbt" / "runs" / "t-q-first").exists())
    second = await runner.test("purchase", run_key="t-q-second", on_progress=record)

    assert seen[0] == DbtProgress(0, 0, queued=1)
    assert seen[-1].queued == 0
    assert seen[-1].done == seen[-1].total
    assert (await first).exit_code == 0
    assert second.exit_code == 0


@pytest.mark.slow
async def test_cancel_a_queued_and_a_running_run(demo_settings: Settings) -> None:
    runner = DbtCliRunner(demo_settings.model_copy(update={"dbt_max_concurrency": 1}))
    started: list[DbtProgress] = []

    async def record(p: DbtProgress) -> None:
        started.append(p)

    running = asyncio.create_task(runner.test(None, run_key="t-c-running", on_progress=record))
    await until(lambda: any(p.total for p in started))
    queued = asyncio.create_task(runner.test("user", run_key="t-c-queued"))
    await until(lambda: runner.queued == 1)

    assert await runner.cancel("t-c-queued")
    assert await runner.cancel("t-c-running")
    assert not await runner.cancel("t-c-unknown")
    stopped, never_ran = await asyncio.gather(running, queued)

    assert stopped.cancelled
    assert never_ran.cancelled
    assert not (demo_settings.home / "dbt" / "runs" / "t-c-queued").exists()
    after = await runner.test("user", run_key="t-c-after")  # the lock and the file were released
    assert after.exit_code == 0


# --- synthetic artifacts ---------------------------------------------------------------------------


def test_outcomes_join_run_results_with_the_manifest() -> None:
    manifest = {
        "nodes": {
            "test.p.not_null_x_id.1": {
                "name": "not_null_x_id",
                "attached_node": "model.p.x",
                "column_name": "id",
                "config": {"severity": "ERROR"},
                "database": "wh",
                "schema": "main_dbt_test__audit",
                "alias": "not_null_x_id",
            },
            "test.p.assert_totals.2": {
                "name": "assert_totals",
                "config": {"severity": "warn"},
                "depends_on": {"nodes": ["source.p.raw.t", "model.p.y"]},
            },
        }
    }
    run_results = {
        "results": [
            {"unique_id": "model.p.x", "status": "success"},
            {
                "unique_id": "test.p.not_null_x_id.1",
                "status": "fail",
                "failures": 3,
                "message": "Got 3 results",
                "execution_time": 0.5,
                "compiled_code": "select 1",
                "relation_name": '"wh"."main_dbt_test__audit"."not_null_x_id"',
            },
            {"unique_id": "test.p.assert_totals.2", "status": "warn", "failures": 1, "relation_name": None},
        ]
    }

    first, second = outcomes_from(run_results, manifest)

    assert (first.name, first.status, first.failures, first.model, first.column) == (
        "not_null_x_id",
        "fail",
        3,
        "model.p.x",
        "id",
    )
    assert first.severity == "error"
    assert first.failures_relation == Relation("wh", "main_dbt_test__audit", "not_null_x_id")
    assert (second.model, second.severity, second.failures_relation) == ("model.p.y", "warn", None)


def test_progress_counts_finished_nodes_once() -> None:
    tracker = EventTracker()

    def event(
        name: str, uid: str | None = None, status: str | None = None, **data: object
    ) -> dict[str, object]:
        node = {"unique_id": uid, "node_status": status, "node_name": uid.split(".")[-1]} if uid else None
        return {"info": {"name": name}, "data": {**data, "node_info": node}}

    assert tracker.feed(event("ConcurrencyLine", node_count=2)) == DbtProgress(0, 2)
    assert tracker.feed(event("LogStartLine", "test.p.a", "started")) is None
    assert tracker.feed(event("LogTestResult", "test.p.a", "pass")) == DbtProgress(1, 2, last="a")
    assert tracker.feed(event("RunResultError", "test.p.a", None)) is None  # summary repeats the node
    assert tracker.feed(event("LogTestResult", "test.p.b", "fail")) == DbtProgress(2, 2, last="b")


def test_freshness_keeps_sources_that_only_the_log_knows() -> None:
    tracker = EventTracker()
    tracker.statuses["source.p.raw.gone"] = "runtime error"
    tracker.errors["source.p.raw.gone"] = "Catalog Error: Table gone does not exist"
    sources = {
        "results": [{"unique_id": "source.p.raw.t", "status": "warn", "max_loaded_at_time_ago_in_s": 9.5}]
    }
    manifest = {"sources": {"source.p.raw.t": {"source_name": "raw", "name": "t"}}}

    found = freshness_from(sources, tracker, manifest)

    assert [(s.name, s.status, s.age_s) for s in found] == [
        ("raw.gone", "runtime error", None),
        ("raw.t", "warn", 9.5),
    ]
    assert found[0].error == "Catalog Error: Table gone does not exist"


async def test_the_gate_admits_in_order_and_reports_positions() -> None:
    gate = FifoGate(1)
    order: list[str] = []
    positions: dict[str, list[int]] = {"b": [], "c": []}
    release = asyncio.Event()

    async def hold(name: str) -> None:
        async def on_position(n: int) -> None:
            positions[name].append(n)

        async with gate.slot(on_position):
            order.append(name)
            await release.wait()

    first = asyncio.create_task(hold("a"))
    await until(lambda: order == ["a"])
    waiters = [asyncio.create_task(hold(n)) for n in ("b", "c")]
    await until(lambda: gate.waiting == 2 and positions["c"] == [2])
    waiters[0].cancel()  # b leaves the line: c moves up
    await until(lambda: positions["c"] == [2, 1])
    release.set()
    await asyncio.gather(first, waiters[1])

    assert order == ["a", "c"]
    assert positions == {"b": [1], "c": [2, 1]}
    assert gate.waiting == 0
