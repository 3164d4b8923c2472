"""The Composer adapter: the Airflow REST client found through the Composer API, with Google credentials.

Google's services cannot run here, so this is the one place with stand-ins: a local aiohttp server plays
the environment's Airflow web server (behind Composer's proxy, which wants a Google bearer token), and a
small Environments client returns a real `service_v1.Environment`. The credentials are a real subclass of
google-auth's `Credentials` whose refresh hands out numbered tokens.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from google.api_core.exceptions import PermissionDenied
from google.auth.credentials import Credentials
from google.cloud.orchestration.airflow.service_v1 import Environment, EnvironmentConfig

from bot.adapters.orchestrator.composer import ComposerOrchestrator
from bot.foundation.ports import BackendUnavailable, DagRunRef, DagSchedule
from tests.support.blackhole import black_hole
from tests.support.demo import isolated_settings

ENVIRONMENT = "projects/acme-data/locations/europe-west1/environments/prod-eu"


class AirflowBehindComposer:
    """Answers the Airflow REST calls the adapter makes; records them with their Authorization header."""

    def __init__(self, api: str) -> None:
        self.api = api
        self.url = ""
        self.calls: list[tuple[str, str, str]] = []  # method, path, authorization
        self.rejected_tokens: set[str] = set()
        self.fail_next: list[int] = []  # statuses to answer before serving again
        self.app = web.Application(middlewares=[self._gate])
        self.app.router.add_get(f"/api/{api}/version", self._version)
        self.app.router.add_post(f"/api/{api}/dags/~/dagRuns/list", self._list_runs)
        self.app.router.add_post(f"/api/{api}/dags/{{dag_id}}/dagRuns", self._trigger)
        self.app.router.add_get(f"/api/{api}/dags", self._dags)

    @web.middleware
    async def _gate(self, request: web.Request, handler: Any) -> web.StreamResponse:
        authorization = request.headers.get("Authorization", "")
        self.calls.append((request.method, request.path, authorization))
        if not authorization.startswith("Bearer ") or authorization[7:] in self.rejected_tokens:
            return web.json_response({"detail": "Not authenticated"}, status=401)
        if self.fail_next:
            status = self.fail_next.pop(0)
            return web.json_response({"detail": "busy"}, status=status, headers={"Retry-After": "0"})
        response: web.StreamResponse = await handler(request)
        return response

    async def _version(self, _: web.Request) -> web.Response:
        return web.json_response({"version": "3.1.0" if self.api == "v2" else "2.10.5", "git_version": None})

    async def _list_runs(self, request: web.Request) -> web.Response:
        body = await request.json()
        runs = [_run(dag_id, "r1") for dag_id in body["dag_ids"]]
        return web.json_response({"dag_runs": runs, "total_entries": len(runs)})

    async def _dags(self, _: web.Request) -> web.Response:
        # A daily DAG whose run for 3 December (its logical date) is created at midnight on the 4th, with
        # the field names each major uses for the two.
        due = (
            {
                "next_dagrun_logical_date": "2026-12-03T00:00:00Z",
                "next_dagrun_run_after": "2026-12-04T00:00:00Z",
            }
            if self.api == "v2"
            else {
                "next_dagrun": "2026-12-03T00:00:00+00:00",
                "next_dagrun_create_after": "2026-12-04T00:00:00+00:00",
            }
        )
        dags = [{"dag_id": "amd_nightly", "is_paused": True, **due}, {"dag_id": "amd_ok", "is_paused": False}]
        return web.json_response({"dags": dags, "total_entries": len(dags)})

    async def _trigger(self, request: web.Request) -> web.Response:
        if request.match_info["dag_id"] == "restricted":
            return web.json_response({"detail": "Forbidden"}, status=403)
        body = await request.json()
        # As the real ones do: Airflow 3 wants the logical_date key and no unknown keys, Airflow 2 no null.
        known = {"dag_run_id", "logical_date", "conf", "note"}
        if self.api == "v2" and ("logical_date" not in body or not set(body) <= known):
            return web.json_response({"detail": [{"loc": ["body"], "msg": "invalid"}]}, status=422)
        if self.api == "v1" and "logical_date" in body and body["logical_date"] is None:
            return web.json_response(
                {"title": "Bad Request", "detail": "logical_date may not be null"}, status=400
            )
        return web.json_response(_run(request.match_info["dag_id"], body["dag_run_id"]))


def _run(dag_id: str, run_id: str) -> dict[str, Any]:
    return {"dag_id": dag_id, "dag_run_id": run_id, "state": "running", "start_date": "2026-11-26T08:00:00Z"}


class Environments:
    """The EnvironmentsAsyncClient call the adapter makes, answered with a real Environment message."""

    def __init__(self, airflow_uri: str, *, denied: bool = False) -> None:
        self.airflow_uri, self.denied, self.calls = airflow_uri, denied, 0

    async def get_environment(self, *, name: str) -> Environment:
        self.calls += 1
        if self.denied:
            raise PermissionDenied("Permission 'composer.environments.get' denied")
        return Environment(name=name, config=EnvironmentConfig(airflow_uri=self.airflow_uri))


class NumberedTokens(Credentials):
    def __init__(self) -> None:
        super().__init__()
        self.refresh_threads: list[int] = []

    def refresh(self, request: Any) -> None:
        self.refresh_threads.append(threading.get_ident())
        self.token = f"google-token-{len(self.refresh_threads)}"
        self.expiry = datetime.now(UTC).replace(tzinfo=None) + timedelta(hours=1)  # google-auth: naive UTC


@pytest.fixture(params=["v2"])
async def airflow(request: pytest.FixtureRequest) -> AsyncIterator[AirflowBehindComposer]:
    server = AirflowBehindComposer(request.param)
    runner = web.AppRunner(server.app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    yield server
    await runner.cleanup()


def composer(
    airflow: AirflowBehindComposer, environments: Environments | None = None
) -> ComposerOrchestrator:
    return ComposerOrchestrator.for_environment(
        ENVIRONMENT,
        environments=environments or Environments(airflow.url),
        credentials=NumberedTokens(),
        backoff_s=0.01,
    )


def test_the_bot_settings_name_the_environment(tmp_path: Path) -> None:
    settings = isolated_settings(tmp_path, orchestrator="composer", composer_environment=ENVIRONMENT)
    assert ComposerOrchestrator.from_settings(settings).environment == "composer: prod-eu"
    with pytest.raises(ValueError, match="AMD_COMPOSER_ENVIRONMENT"):
        ComposerOrchestrator.from_settings(isolated_settings(tmp_path, orchestrator="composer"))


async def test_the_airflow_url_is_read_once_and_every_call_carries_a_google_token(
    airflow: AirflowBehindComposer,
) -> None:
    environments, credentials = Environments(airflow.url), NumberedTokens()
    orchestrator = ComposerOrchestrator.for_environment(
        ENVIRONMENT, environments=environments, credentials=credentials
    )
    try:
        await orchestrator.get_runs([DagRunRef("amd_ok", "r1")])
        [run] = await orchestrator.get_runs([DagRunRef("amd_ok", "r1")])
    finally:
        await orchestrator.close()

    assert orchestrator.environment == "composer: prod-eu"
    assert environments.calls == 1
    assert run.url == f"{airflow.url}/dags/amd_ok/runs/r1"
    assert {authorization for _, _, authorization in airflow.calls} == {"Bearer google-token-1"}
    assert credentials.refresh_threads != [threading.get_ident()]  # refreshed in a thread, not on the loop


async def test_an_expired_google_token_is_refreshed_once(airflow: AirflowBehindComposer) -> None:
    credentials = NumberedTokens()
    orchestrator = ComposerOrchestrator.for_environment(
        ENVIRONMENT, environments=Environments(airflow.url), credentials=credentials
    )
    await orchestrator.get_runs([DagRunRef("amd_ok", "r1")])
    airflow.rejected_tokens.add("google-token-1")
    try:
        [run] = await orchestrator.get_runs([DagRunRef("amd_ok", "r1")])
    finally:
        await orchestrator.close()

    assert run.run_id == "r1"
    assert len(credentials.refresh_threads) == 2
    assert airflow.calls[-1][2] == "Bearer google-token-2"


async def test_rejected_google_credentials_are_named_as_the_cause(airflow: AirflowBehindComposer) -> None:
    airflow.rejected_tokens |= {"google-token-1", "google-token-2"}
    orchestrator = composer(airflow)
    with pytest.raises(
        BackendUnavailable, match="401 Unauthorized — the bot's Google credentials were rejected"
    ):
        await orchestrator.get_runs([DagRunRef("amd_ok", "r1")])
    await orchestrator.close()


async def test_a_403_names_the_airflow_role_and_the_iam_permission(airflow: AirflowBehindComposer) -> None:
    orchestrator = composer(airflow)
    try:
        with pytest.raises(BackendUnavailable) as refused:
            await orchestrator.trigger("restricted", "amd__1", {}, None)
    finally:
        await orchestrator.close()

    message = str(refused.value)
    assert message.startswith(f"Airflow at {airflow.url}: 403 Forbidden — the bot's Google identity may not")
    assert "trigger DAG restricted" in message
    assert "Op or User role" in message
    assert "composer.environments.get" in message
    assert "google-token" not in message


async def test_no_permission_to_read_the_environment_names_the_iam_permission(
    airflow: AirflowBehindComposer,
) -> None:
    orchestrator = composer(airflow, Environments(airflow.url, denied=True))
    with pytest.raises(
        BackendUnavailable, match=r"prod-eu: permission denied .* composer\.environments\.get"
    ):
        await orchestrator.list_dags()
    await orchestrator.close()
    assert airflow.calls == []


async def test_busy_and_failing_servers_are_retried_then_reported(airflow: AirflowBehindComposer) -> None:
    orchestrator = composer(airflow)
    await orchestrator.get_runs([DagRunRef("amd_ok", "r1")])
    airflow.calls.clear()
    airflow.fail_next = [503, 429]
    try:
        [run] = await orchestrator.get_runs([DagRunRef("amd_ok", "r1")])
        assert run.run_id == "r1"
        assert len(airflow.calls) == 3

        airflow.fail_next = [500] * 4
        with pytest.raises(
            BackendUnavailable, match=r"unreachable \(500 Internal Server Error\); tried 4x to list"
        ):
            await orchestrator.get_runs([DagRunRef("amd_ok", "r1")])
    finally:
        await orchestrator.close()


@pytest.mark.parametrize("airflow", ["v1"], indirect=True)
async def test_an_airflow_2_environment_is_spoken_to_through_api_v1(airflow: AirflowBehindComposer) -> None:
    orchestrator = composer(airflow)
    try:
        run = await orchestrator.trigger("amd_ok", "amd__7", {"entity": "user"}, None)
    finally:
        await orchestrator.close()

    assert [path for _, path, _ in airflow.calls] == [
        "/api/v2/version",
        "/api/v1/version",
        "/api/v1/dags/amd_ok/dagRuns",
    ]
    assert run.url == f"{airflow.url}/dags/amd_ok/grid?dag_run_id=amd__7"


async def test_a_composer_api_that_never_answers_fails_fast_instead_of_freezing_every_call() -> None:
    """One black-holed get_environment used to hold the connection lock forever, and every Airflow
    call queued behind it. The real gRPC client talks to a local socket that accepts and stays silent."""
    import grpc
    from google.cloud.orchestration.airflow.service_v1 import EnvironmentsAsyncClient
    from google.cloud.orchestration.airflow.service_v1.services.environments.transports import (
        EnvironmentsGrpcAsyncIOTransport,
    )

    async with black_hole() as port:
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
        client = EnvironmentsAsyncClient(transport=EnvironmentsGrpcAsyncIOTransport(channel=channel))
        orchestrator = ComposerOrchestrator.for_environment(
            ENVIRONMENT, environments=client, credentials=NumberedTokens(), composer_timeout_s=0.5
        )
        try:
            async with asyncio.timeout(10):
                first, second = await asyncio.gather(
                    orchestrator.list_dags(), orchestrator.list_dags(), return_exceptions=True
                )
        finally:
            await orchestrator.close()
            await channel.close()

    for failure in (first, second):
        assert isinstance(failure, BackendUnavailable)
        assert "Composer API did not answer within 0.5 s" in str(failure)
        assert "prod-eu" in str(failure)


@pytest.mark.parametrize("airflow", ["v2", "v1"], indirect=True)
async def test_dag_schedules_give_when_the_next_run_is_created_not_its_logical_date(
    airflow: AirflowBehindComposer,
) -> None:
    orchestrator = composer(airflow)
    try:
        schedules = await orchestrator.dag_schedules(["amd_nightly", "amd_ok", "amd_gone"])
    finally:
        await orchestrator.close()

    assert schedules == [
        DagSchedule("amd_nightly", paused=True, next_run_after=datetime(2026, 12, 4, tzinfo=UTC)),
        DagSchedule("amd_ok", paused=False),
    ]
    assert [path for _, path, _ in airflow.calls][-1] == f"/api/{airflow.api}/dags"  # one call for all
