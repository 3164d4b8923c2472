"""No failure missed, no DAG that stops unheard: the failure watcher against real Airflows (3 and 2.10).

The bot runs on the demo world with Airflow as its orchestrator, watching the test DAGs through
AMD_ALERT_DAGS and sending everything to one channel. `amd_flip` fails unless its conf says
`succeed`; `amd_paused` is scheduled daily and paused; `amd_slow` runs as long as its conf says.
Regression tests of issue 18's found bugs 4 (failures missed) and 7 (stale observations).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from aiohttp import web
from pydantic import SecretStr

from bot.adapters.orchestrator.airflow import AirflowOrchestrator
from bot.alerts.watch import sweep
from bot.foundation.alert_routes import AlertRoute
from bot.foundation.ports import RunState
from bot.foundation.settings import Settings
from bot.state.incidents import Incidents
from tests.slack_fake.server import LocalServer
from tests.support.airflow import AirflowServer
from tests.support.bot import BotHarness, running_bot
from tests.test_orchestrator_airflow import follow, new_run_id

pytestmark = pytest.mark.airflow


@pytest.fixture
async def watcher(server: AirflowServer, bot_settings: Settings) -> AsyncIterator[BotHarness]:
    settings = bot_settings.model_copy(
        update={
            "orchestrator": "airflow",
            "airflow_url": server.url,
            "airflow_username": server.username,
            "airflow_password": SecretStr(server.password),
            "alert_dags": ["amd_flip", "amd_paused", "amd_slow"],
            "alert_routes": [AlertRoute(name="ops", channel="#ops")],
        }
    )
    async with running_bot(settings) as bot:
        # One run per page: the watcher must read every page, not the first.
        bot.backends.orchestrator = AirflowOrchestrator.with_password(
            server.url, server.username, SecretStr(server.password), page_limit=1
        )
        yield bot
        await bot.backends.orchestrator.close()


async def run(bot: BotHarness, dag_id: str, conf: dict[str, object]) -> RunState:
    orchestrator = bot.backends.orchestrator
    assert isinstance(orchestrator, AirflowOrchestrator)
    started = await orchestrator.trigger(dag_id, new_run_id(dag_id), conf, None)
    return await follow(orchestrator, started.ref)


async def test_a_failed_run_followed_by_a_success_is_recorded_as_failed_and_recovered(
    watcher: BotHarness,
) -> None:
    failed = await run(watcher, "amd_flip", {})
    fixed = await run(watcher, "amd_flip", {"succeed": True})
    assert (failed.state, fixed.state) == ("failed", "success")

    await sweep(watcher.backends, now=datetime.now(UTC))  # both ended since the last look

    incident = await Incidents(watcher.backends.state.engine).get("run:amd_flip")
    assert incident is not None, "the failure was never recorded"
    assert incident.state == "resolved"
    assert incident.detail["run_id"] == failed.run_id
    assert incident.detail["recovered_run_id"] == fixed.run_id
    assert incident.detail["failed_tasks"] == ["flip"]
    shown = await watcher.console("/amd digest preview")
    assert f"Recovered: `amd_flip` (run `{failed.run_id}` failed, `{fixed.run_id}` succeeded)" in shown


async def test_a_fail_a_fix_and_a_fail_again_in_one_read_is_one_open_incident_telling_all_three(
    watcher: BotHarness,
) -> None:
    first = await run(watcher, "amd_flip", {})
    fixed = await run(watcher, "amd_flip", {"succeed": True})
    again = await run(watcher, "amd_flip", {})

    await sweep(watcher.backends, now=datetime.now(UTC))

    incident = await Incidents(watcher.backends.state.engine).get("run:amd_flip")
    assert incident is not None and incident.state == "open"
    assert incident.detail["run_id"] == again.run_id
    # (The module's Airflow keeps the earlier tests' runs of amd_flip: they are read too.)
    assert incident.detail["earlier_failed_runs"][-1] == first.run_id
    assert incident.summary.endswith(f"`{first.run_id}` failed, `{fixed.run_id}` succeeded")
    assert " · before it: " in incident.summary


async def test_a_bot_clock_ahead_of_airflow_does_not_skip_a_run(watcher: BotHarness) -> None:
    ahead = timedelta(minutes=10)  # twice the overlap the watcher reads again
    await run(watcher, "amd_flip", {"succeed": True})
    await sweep(watcher.backends, now=datetime.now(UTC) + ahead)

    failed = await run(watcher, "amd_flip", {})
    await sweep(watcher.backends, now=datetime.now(UTC) + ahead)

    incident = await Incidents(watcher.backends.state.engine).get("run:amd_flip")
    assert incident is not None, "the run that failed between two sweeps was skipped"
    assert (incident.state, incident.detail["run_id"]) == ("open", failed.run_id)


class HeldAnswers:
    """Between a replica and Airflow: run lists reach Airflow at once, but their answers are held until
    `release` — a replica that read the runs, then stalled (a GC pause, a slow network) before writing."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.answered = asyncio.Event()  # Airflow has answered a held request
        self.release = asyncio.Event()
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._forward)
        self.server = LocalServer(app)

    async def _forward(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("authorization", "content-type")}
        async with (
            aiohttp.ClientSession() as session,
            session.request(
                request.method, self.upstream + request.path_qs, data=body, headers=headers
            ) as resp,
        ):
            answer, status = await resp.read(), resp.status
        if request.path.endswith("/dagRuns/list"):
            self.answered.set()
            await self.release.wait()
        return web.Response(status=status, body=answer, content_type="application/json")


async def test_a_stale_observation_does_not_reopen_a_newer_resolution(
    watcher: BotHarness,
    server: AirflowServer,
) -> None:
    failed = await run(watcher, "amd_flip", {})
    await sweep(watcher.backends, now=datetime.now(UTC))
    store = Incidents(watcher.backends.state.engine)
    assert (opened := await store.get("run:amd_flip")) is not None and opened.state == "open"
    held = HeldAnswers(server.url)
    await held.server.start()
    slow = AirflowOrchestrator.with_password(
        held.server.base_url, server.username, SecretStr(server.password)
    )
    try:
        # Replica A reads the runs while the failure is the newest, and stalls before recording it.
        stalled = asyncio.create_task(
            sweep(replace(watcher.backends, orchestrator=slow), now=datetime.now(UTC))
        )
        await asyncio.wait_for(held.answered.wait(), 60)
        fixed = await run(watcher, "amd_flip", {"succeed": True})
        await sweep(watcher.backends, now=datetime.now(UTC))  # replica B: it recovered
        assert (recovered := await store.get("run:amd_flip")) is not None and recovered.state == "resolved"

        held.release.set()
        await stalled  # replica A writes what it read before the fix
    finally:
        held.release.set()
        await slow.close()
        await held.server.stop()

    incident = await store.get("run:amd_flip")
    assert incident is not None
    assert incident.state == "resolved", f"run {failed.run_id}, fixed by {fixed.run_id}, was reopened"


async def test_a_paused_scheduled_dag_is_an_incident_and_resolves_when_it_runs_again(
    watcher: BotHarness,
    server: AirflowServer,
) -> None:
    await sweep(watcher.backends, now=datetime.now(UTC))
    store = Incidents(watcher.backends.state.engine)
    paused = await store.get("paused:amd_paused")
    assert paused is not None and paused.state == "open" and paused.kind == "paused"
    assert paused.summary.startswith("DAG `amd_paused` is paused")
    assert await store.get("missing:amd_paused") is None  # paused is the reason: not told twice
    assert await store.get("paused:amd_flip") is None  # not scheduled: paused or not, nothing is due

    orchestrator = watcher.backends.orchestrator
    assert isinstance(orchestrator, AirflowOrchestrator)
    await orchestrator.http.call(
        "PATCH", ("dags", "amd_paused"), payload={"is_paused": False}, action="unpause amd_paused"
    )
    try:
        await sweep(watcher.backends, now=datetime.now(UTC))
        resumed = await store.get("paused:amd_paused")
        assert resumed is not None and resumed.state == "resolved"
    finally:
        await orchestrator.http.call(
            "PATCH", ("dags", "amd_paused"), payload={"is_paused": True}, action="pause amd_paused"
        )


async def test_a_run_going_far_longer_than_usual_is_stuck_until_it_ends(watcher: BotHarness) -> None:
    orchestrator = watcher.backends.orchestrator
    assert isinstance(orchestrator, AirflowOrchestrator)
    started = await orchestrator.trigger("amd_slow", new_run_id("slow"), {"seconds": 20}, None)
    async with asyncio.timeout(60):
        while (await orchestrator.get_runs([started.ref]))[0].state != "running":
            await asyncio.sleep(0.3)
    store = Incidents(watcher.backends.state.engine)

    await sweep(watcher.backends, now=datetime.now(UTC) + timedelta(minutes=30))
    assert await store.get("stuck:amd_slow") is None  # under the hour no run is stuck
    ahead = timedelta(hours=2)  # the bot's clock, so the run has been going for two hours
    await sweep(watcher.backends, now=datetime.now(UTC) + ahead)
    stuck = await store.get("stuck:amd_slow")
    assert stuck is not None and stuck.state == "open"
    assert f"run `{started.run_id}` is stuck" in stuck.summary

    await follow(orchestrator, started.ref)
    await sweep(watcher.backends, now=datetime.now(UTC) + ahead)
    ended = await store.get("stuck:amd_slow")
    assert ended is not None and ended.state == "resolved"
