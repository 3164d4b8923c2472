"""LocalRunner on the real demo dbt project: a DAG run is `dbt build` of the DAG's models."""

from __future__ import annotations

import asyncio

import pytest

from bot.adapters.dbt.cli import DbtCliRunner
from bot.adapters.orchestrator.local_runner import LocalRunner
from bot.foundation.ports import BackendUnavailable, DagRunRef, RunAlreadyExists, RunState
from bot.foundation.settings import Settings

FAILING = "non_negative_payment_amount_cents"


async def finished(runner: LocalRunner, ref: DagRunRef, timeout: float = 120.0) -> RunState:
    async with asyncio.timeout(timeout):
        while True:
            (run,) = await runner.get_runs([ref])
            if run.finished:
                return run
            await asyncio.sleep(0.2)


@pytest.mark.slow
async def test_payment_dag_run_fails_on_the_demo_failing_test(demo_settings: Settings) -> None:
    runner = LocalRunner(demo_settings)
    try:
        assert await runner.list_dags() == ["amd_delivery_address", "amd_payment", "amd_purchase", "amd_user"]
        started = await runner.trigger("amd_payment", "manual__payment-1", {"why": "test"}, None)
        assert started.state == "queued"
        assert started.url is not None
        assert started.url.startswith("file://")

        run = await finished(runner, started.ref)
        tasks = {t.task_id: t.state for t in await runner.task_states(started.ref)}

        assert run.state == "failed"
        assert run.conf == {"why": "test"}
        assert run.started_at is not None
        assert run.ended_at is not None
        assert tasks["payment"] == "success"
        assert tasks[FAILING] == "failed"
        assert [name for name, state in tasks.items() if state == "failed"] == [FAILING]
        assert (await runner.latest_runs(["amd_payment"], 5))[0].run_id == "manual__payment-1"
    finally:
        await runner.close()


@pytest.mark.slow
async def test_a_repeated_run_id_is_refused(demo_settings: Settings) -> None:
    runner = LocalRunner(demo_settings)
    try:
        first = await runner.trigger("amd_user", "manual__user-1", {}, None)
        with pytest.raises(RunAlreadyExists) as repeat:
            await runner.trigger("amd_user", "manual__user-1", {}, None)
        assert repeat.value.run.ref == first.ref
        with pytest.raises(BackendUnavailable, match="no DAG"):
            await runner.trigger("amd_nothing", "manual__x", {}, None)
        assert (await finished(runner, first.ref)).state == "success"
    finally:
        await runner.close()


@pytest.mark.slow
async def test_clear_failed_reruns_the_failed_test_and_survives_a_restart(
    demo_settings: Settings,
) -> None:
    runner = LocalRunner(demo_settings)
    ref = DagRunRef("amd_payment", "scheduled__2026-01-01T00:00:00+00:00")  # Airflow-style id: not path-safe
    try:
        await runner.trigger(ref.dag_id, ref.run_id, {}, None)
        await finished(runner, ref)
        assert await runner.clear_failed(ref) == [FAILING]
        (cleared,) = await runner.get_runs([ref])
        assert cleared.state in ("queued", "running")

        rerun = await finished(runner, ref)
        tries = {t.task_id: (t.state, t.try_number) for t in await runner.task_states(ref)}
        assert rerun.state == "failed"  # the data is still wrong: the test fails again
        assert tries[FAILING] == ("failed", 2)
        assert tries["payment"] == ("success", 1)  # the model was not rebuilt
        assert rerun.url is not None
        assert rerun.url.endswith("attempt-2/logs/dbt.log")
    finally:
        await runner.close()

    restarted = LocalRunner(demo_settings)
    (again,) = await restarted.get_runs([ref])
    assert again == rerun
    assert {t.task_id: t.try_number for t in await restarted.task_states(ref)}[FAILING] == 2


@pytest.mark.slow
async def test_a_build_and_a_test_run_at_once_share_the_warehouse_without_lock_errors(
    demo_settings: Settings,
) -> None:
    runner, tests = LocalRunner(demo_settings), DbtCliRunner(demo_settings)
    try:
        started = await runner.trigger("amd_user", "manual__user-and-tests", {}, None)
        tested = await tests.test("payment", run_key="t-during-build")
        built = await finished(runner, started.ref)
    finally:
        await runner.close()

    assert built.state == "success"
    assert tested.exit_code == 1  # the demo's failing test, not "Could not set lock on file"
    assert {o.name: o.status for o in tested.outcomes}[FAILING] == "fail"
