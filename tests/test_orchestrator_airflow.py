"""The Airflow adapter against real Apache Airflows: the same contract tests run on Airflow 3 (/api/v2, JWT;
tests/support/airflow.py) and Airflow 2.10 (/api/v1, basic auth; tests/support/airflow2.py), each started
once for the session.

amd_ok has two quick tasks that succeed; amd_fail's `flaky` task fails until the file named in its conf
exists, and `publish` runs after it.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import aiohttp
import pytest
from pydantic import SecretStr

from bot.adapters.orchestrator.airflow import AirflowOrchestrator
from bot.adapters.orchestrator.airflow_auth import JwtAuth
from bot.foundation.ports import BackendUnavailable, DagRunRef, DagSchedule, RunAlreadyExists, RunState
from tests.support.airflow import AirflowServer
from tests.support.blackhole import black_hole
from tests.support.demo import isolated_settings


@pytest.fixture
async def airflow(server: AirflowServer, tmp_path: Path) -> AsyncIterator[AirflowOrchestrator]:
    """Built the way the bot builds it: from its settings."""
    settings = isolated_settings(
        tmp_path,
        orchestrator="airflow",
        airflow_url=server.url,
        airflow_username=server.username,
        airflow_password=server.password,
    )
    orchestrator = AirflowOrchestrator.from_settings(settings)
    yield orchestrator
    await orchestrator.close()


def ui_url(server: AirflowServer, dag_id: str, run_id: str, task_id: str | None = None) -> str:
    """Where a person looks at a run or a task's log: Airflow 3's UI routes by path, Airflow 2's by query."""
    if server.major == 3:
        run = f"{server.url}/dags/{dag_id}/runs/{run_id}"
        return f"{run}/tasks/{task_id}?try_number=1" if task_id else run
    grid = f"{server.url}/dags/{dag_id}/grid?dag_run_id={run_id}"
    return f"{grid}&task_id={task_id}&tab=logs" if task_id else grid


def new_run_id(label: str) -> str:
    return f"amd_test__{label}__{uuid.uuid4().hex[:8]}"


async def follow(airflow: AirflowOrchestrator, ref: DagRunRef, timeout_s: float = 90) -> RunState:
    async with asyncio.timeout(timeout_s):
        while True:
            [run] = await airflow.get_runs([ref])
            if run.finished:
                return run
            await asyncio.sleep(0.5)


@pytest.mark.airflow
async def test_amd_ok_is_triggered_and_followed_to_success(
    airflow: AirflowOrchestrator,
    server: AirflowServer,
) -> None:
    assert {"amd_ok", "amd_fail"} <= set(await airflow.list_dags())
    assert (await airflow.http.connection()).api == ("v2" if server.major == 3 else "v1")  # found, not told
    run_id = new_run_id("ok")

    started = await airflow.trigger("amd_ok", run_id, {"entity": "payment"}, None, note="from amd-bot tests")

    assert started.state in ("queued", "running")
    assert started.conf == {"entity": "payment"}
    assert started.url == ui_url(server, "amd_ok", run_id)
    assert airflow.environment == f"airflow: {server.url}"
    done = await follow(airflow, started.ref)
    assert done.state == "success"
    assert done.started_at is not None
    assert done.ended_at is not None
    tasks = {t.task_id: t for t in await airflow.task_states(started.ref)}
    assert {t: s.state for t, s in tasks.items()} == {"extract": "success", "load": "success"}
    assert tasks["load"].log_url == ui_url(server, "amd_ok", run_id, "load")
    assert [r.run_id for r in await airflow.latest_runs(["amd_ok"], 1)] == [run_id]


@pytest.mark.airflow
async def test_a_failed_run_names_its_failing_task_and_clear_failed_runs_it_again(
    airflow: AirflowOrchestrator, tmp_path: Path
) -> None:
    ok_file = tmp_path / "flaky-may-pass"
    run = await airflow.trigger("amd_fail", new_run_id("fail"), {"ok_file": str(ok_file)}, None)

    failed = await follow(airflow, run.ref)

    assert failed.state == "failed"
    states = {t.task_id: (t.state, t.try_number) for t in await airflow.task_states(run.ref)}
    assert states == {"flaky": ("failed", 1), "publish": ("upstream_failed", 0)}

    ok_file.touch()
    assert await airflow.clear_failed(run.ref) == ["flaky", "publish"]

    assert (await follow(airflow, run.ref)).state == "success"
    states = {t.task_id: (t.state, t.try_number) for t in await airflow.task_states(run.ref)}
    assert states == {"flaky": ("success", 2), "publish": ("success", 1)}


@pytest.mark.airflow
async def test_a_repeated_trigger_raises_run_already_exists_and_makes_no_second_run(
    airflow: AirflowOrchestrator,
) -> None:
    run_id = new_run_id("twice")
    await airflow.trigger("amd_ok", run_id, {"click": 1}, None)

    with pytest.raises(RunAlreadyExists) as repeat:
        await airflow.trigger("amd_ok", run_id, {"click": 2}, None)

    assert repeat.value.run.run_id == run_id
    assert repeat.value.run.conf == {"click": 1}  # the first trigger's run, untouched
    same_id = [r for r in await airflow.latest_runs(["amd_ok"], 100) if r.run_id == run_id]
    assert len(same_id) == 1


@pytest.mark.airflow
async def test_many_followed_runs_are_read_with_one_request(server: AirflowServer) -> None:
    requests = SimpleNamespace(count=0)

    async def count(*_: object) -> None:
        requests.count += 1

    tracing = aiohttp.TraceConfig()
    tracing.on_request_start.append(count)
    async with aiohttp.ClientSession(trace_configs=[tracing]) as session:
        airflow = AirflowOrchestrator.with_password(
            server.url, server.username, SecretStr(server.password), session=session
        )
        refs = [
            (await airflow.trigger(dag_id, new_run_id("batch"), {"succeed": True}, None)).ref
            for dag_id in ("amd_ok", "amd_fail", "amd_ok", "amd_fail")
        ]
        requests.count = 0

        runs = await airflow.get_runs(refs)

        assert requests.count == 1
        assert [r.ref for r in runs] == refs


@pytest.mark.airflow
async def test_a_wrong_password_is_reported_without_the_password(server: AirflowServer) -> None:
    wrong = f"wrong-{secrets.token_hex(6)}"
    airflow = AirflowOrchestrator.with_password(server.url, server.username, SecretStr(wrong))
    try:
        with pytest.raises(BackendUnavailable) as refused:
            await airflow.trigger("amd_ok", new_run_id("denied"), {}, None)
    finally:
        await airflow.close()

    message = str(refused.value)
    assert server.url in message
    assert "401" in message
    assert "rejected" in message
    assert wrong not in message
    assert server.password not in message


@pytest.mark.airflow
async def test_airflow3_logs_in_again_when_its_jwt_is_no_longer_accepted(
    airflow_server: AirflowServer,
) -> None:
    airflow = AirflowOrchestrator.with_password(
        airflow_server.url, airflow_server.username, SecretStr(airflow_server.password)
    )
    try:
        auth = (await airflow.http.connection()).auth
        assert isinstance(auth, JwtAuth)
        assert "amd_ok" in await airflow.list_dags()
        auth._token = "not.a.jwt"  # as if the server's signing key had changed, or the token expired

        assert "amd_ok" in await airflow.list_dags()
        assert auth._token != "not.a.jwt"
    finally:
        await airflow.close()


async def test_a_server_that_is_down_is_reported_as_unavailable() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    airflow = AirflowOrchestrator.with_password(url, "admin", SecretStr("pw"), attempts=3, backoff_s=0.01)
    try:
        with pytest.raises(BackendUnavailable) as down:
            await airflow.get_runs([DagRunRef("amd_ok", "any")])
    finally:
        await airflow.close()

    assert f"Airflow at {url} is unreachable" in str(down.value)
    assert "tried 3x to list runs" in str(down.value)

    # A trigger first needs the server's API version: that discovery fails just as clearly.
    airflow = AirflowOrchestrator.with_password(url, "admin", SecretStr("pw"), attempts=3, backoff_s=0.01)
    try:
        with pytest.raises(BackendUnavailable, match=f"Airflow at {url} is unreachable"):
            await airflow.trigger("amd_ok", "amd__x", {}, None)
    finally:
        await airflow.close()


async def test_a_server_that_never_answers_times_out_after_the_configured_limit(tmp_path: Path) -> None:
    async with black_hole() as port:
        url = f"http://127.0.0.1:{port}"
        settings = isolated_settings(
            tmp_path,
            orchestrator="airflow",
            airflow_url=url,
            airflow_username="admin",
            airflow_password="pw",
            airflow_timeout_s=0.3,
        )
        airflow = AirflowOrchestrator.from_settings(settings)
        try:
            async with asyncio.timeout(10):  # 4 attempts at the 0.3 s limit, with backoff between them
                with pytest.raises(BackendUnavailable) as hung:
                    await airflow.get_runs([DagRunRef("amd_ok", "any")])
        finally:
            await airflow.close()

    assert f"Airflow at {url} is unreachable (timed out after 0.3 s)" in str(hung.value)


@pytest.mark.airflow
async def test_the_watcher_finds_a_scheduled_failure_it_did_not_trigger_with_two_calls(
    server: AirflowServer, airflow: AirflowOrchestrator
) -> None:
    """amd_nightly is `@once`: Airflow's scheduler starts it; nobody triggers it."""
    since = datetime(2026, 1, 1, tzinfo=UTC)
    calls: list[str] = []

    async def count(_session: object, _ctx: object, params: aiohttp.TraceRequestStartParams) -> None:
        calls.append(f"{params.method} {params.url.path}")

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(count)
    session = aiohttp.ClientSession(trace_configs=[trace])
    watcher = AirflowOrchestrator.with_password(
        server.url, server.username, SecretStr(server.password), session=session
    )
    try:
        async with asyncio.timeout(180):
            while True:
                reports = await watcher.runs_ended_since(["amd_nightly", "amd_ok"], since)
                nightly = [r for r in reports if r.run.dag_id == "amd_nightly"]
                if nightly:
                    break
                await asyncio.sleep(1)
        calls.clear()
        reports = await watcher.runs_ended_since(["amd_nightly", "amd_ok"], since)
    finally:
        await watcher.close()
        await session.close()
    (report,) = [r for r in reports if r.run.dag_id == "amd_nightly"]
    assert report.run.state == "failed"
    assert report.run.run_id.startswith("scheduled__")  # Airflow's scheduler started it, not the bot
    assert report.failed_tasks == ("dbt_test_payment",)
    assert [c for c in calls if "/dags/" in c] == [
        f"POST /api/{'v2' if server.major == 3 else 'v1'}/dags/~/dagRuns/list",
        f"POST /api/{'v2' if server.major == 3 else 'v1'}/dags/~/dagRuns/~/taskInstances/list",
    ]


@pytest.mark.airflow
async def test_dag_schedules_say_paused_and_when_the_next_run_is_due(airflow: AirflowOrchestrator) -> None:
    """amd_paused is `@daily` and paused since its creation; amd_ok has no schedule."""
    schedules = {s.dag_id: s for s in await airflow.dag_schedules(["amd_paused", "amd_ok", "not_a_dag"])}

    assert set(schedules) == {"amd_paused", "amd_ok"}  # a DAG Airflow does not know is left out
    paused = schedules["amd_paused"]
    assert paused.paused
    # catchup=False: the run due next is at a midnight, and Airflow says so even while it is paused: today's,
    # or tomorrow's once another test of the suite's shared Airflow let today's run.
    assert paused.next_run_after is not None and paused.next_run_after <= datetime.now(UTC) + timedelta(
        days=1
    )
    assert (paused.next_run_after.hour, paused.next_run_after.minute) == (0, 0)
    assert schedules["amd_ok"] == DagSchedule("amd_ok", paused=False)  # nothing is ever due


@pytest.mark.airflow
async def test_active_runs_are_those_queued_or_running(airflow: AirflowOrchestrator) -> None:
    started = await airflow.trigger("amd_slow", new_run_id("active"), {"seconds": 3}, None)

    active = await airflow.active_runs(["amd_slow", "amd_ok"])

    assert started.run_id in [r.run_id for r in active]
    assert {r.state for r in active} <= {"queued", "running"}
    await follow(airflow, started.ref)
    assert started.run_id not in [r.run_id for r in await airflow.active_runs(["amd_slow"])]
