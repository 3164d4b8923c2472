"""The Composer adapter against Composer's side on loopback (tests/support/composer.py): the real
google-cloud-orchestration-airflow client reads the environment over its REST transport from a local
Environments API, and every Airflow call reaches the suite's real Airflow 3 or 2.10 through a proxy that
wants a Google bearer token, as Composer's web server does.

The credentials are a real google-auth `Credentials` whose refresh hands out numbered tokens, which the
API and the proxy honour until they are revoked; one test finds them as production does, through
Application Default Credentials and the settings. What the suite's Airflow cannot be made to do on
demand is played by the proxy: a busy web server (429, 5xx) and an identity whose Airflow role may not
trigger (403). A Composer API that never answers is a silent socket.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.adapters.orchestrator.airflow import AirflowOrchestrator
from bot.adapters.orchestrator.composer import ComposerOrchestrator
from bot.foundation.ports import BackendUnavailable, DagRunRef
from tests.support.airflow import READY, AirflowServer
from tests.support.blackhole import black_hole
from tests.support.composer import AirflowProxy, EnvironmentsApi, Google
from tests.support.demo import isolated_settings

PROJECT = "acme-data"
ENVIRONMENT = f"projects/{PROJECT}/locations/europe-west1/environments/prod-eu"


@dataclass
class Composer:
    google: Google
    api: EnvironmentsApi
    proxy: AirflowProxy

    def orchestrator(self, token: str | None = None, **options: Any) -> ComposerOrchestrator:
        """The adapter on ENVIRONMENT, with credentials holding `token` (else none yet)."""
        return ComposerOrchestrator.for_environment(
            ENVIRONMENT, api_endpoint=self.api.base_url, credentials=self.google.account(token), **options
        )


@pytest.fixture
async def composer(server: AirflowServer) -> AsyncIterator[Composer]:
    google = Google(projects={PROJECT})
    async with EnvironmentsApi(google) as api, AirflowProxy(google, server) as proxy:
        api.environments[ENVIRONMENT] = proxy.base_url
        yield Composer(google, api, proxy)


@pytest.mark.airflow
async def test_found_through_the_composer_api_it_lists_triggers_exactly_one_run_and_reads_it_back(
    composer: Composer, server: AirflowServer
) -> None:
    orchestrator = composer.orchestrator()
    behind = AirflowOrchestrator.with_password(server.url, server.username, SecretStr(server.password))
    run_id, conf = f"amd_test__composer__{uuid.uuid4().hex[:8]}", {"entity": "user", "full_refresh": True}
    try:
        before = {r.run_id for r in await behind.latest_runs(["amd_ok"], 100)}
        dags = await orchestrator.list_dags()
        triggered = await orchestrator.trigger("amd_ok", run_id, conf, None)
        [read] = await orchestrator.get_runs([DagRunRef("amd_ok", run_id)])
        in_airflow = [r for r in await behind.latest_runs(["amd_ok"], 100) if r.run_id not in before]
    finally:
        await orchestrator.close()
        await behind.close()

    assert set(dags) >= READY
    assert orchestrator.environment == "composer: prod-eu"
    assert (read.run_id, dict(read.conf)) == (triggered.run_id, conf)
    assert [(r.run_id, dict(r.conf)) for r in in_airflow] == [(run_id, conf)]
    assert read.url is not None and read.url.startswith(f"{composer.proxy.base_url}/dags/amd_ok/")
    # The environment is read once; every call carries the one Google token, refreshed off the loop.
    assert composer.api.calls == [(ENVIRONMENT, "Bearer google-token-1")]
    assert {authorization for _, _, authorization in composer.proxy.calls} == {"Bearer google-token-1"}
    assert threading.get_ident() not in composer.google.refresh_threads
    api = "v2" if server.major == 3 else "v1"
    assert {path.split("/")[2] for _, path, _ in composer.proxy.calls if "/version" not in path} == {api}


@pytest.mark.airflow
async def test_a_revoked_token_is_refreshed_once_by_the_composer_api_client_and_by_the_adapter(
    composer: Composer,
) -> None:
    composer.google.revoked.add("google-token-0")
    orchestrator = composer.orchestrator(token="google-token-0")  # still held, revoked since
    try:
        await orchestrator.list_dags()
        composer.google.revoked.add("google-token-1")
        dags = await orchestrator.list_dags()
    finally:
        await orchestrator.close()

    assert "amd_ok" in dags
    assert [authorization for _, authorization in composer.api.calls] == [
        "Bearer google-token-0",
        "Bearer google-token-1",
    ]
    assert composer.google.issued == ["google-token-0", "google-token-1", "google-token-2"]
    assert [a for _, _, a in composer.proxy.calls][-2:] == ["Bearer google-token-1", "Bearer google-token-2"]


@pytest.mark.airflow
async def test_credentials_google_no_longer_honours_are_named_as_the_cause(composer: Composer) -> None:
    orchestrator = composer.orchestrator()
    try:
        await orchestrator.list_dags()
        composer.google.revoked |= {"google-token-1", "google-token-2"}
        with pytest.raises(
            BackendUnavailable, match="401 Unauthorized — the bot's Google credentials were rejected"
        ):
            await orchestrator.list_dags()
    finally:
        await orchestrator.close()


@pytest.mark.airflow
async def test_a_403_from_airflow_names_the_airflow_role_and_the_iam_permission(composer: Composer) -> None:
    composer.proxy.forbid_triggers = True
    orchestrator = composer.orchestrator()
    try:
        with pytest.raises(BackendUnavailable) as refused:
            await orchestrator.trigger("amd_ok", f"amd_test__{uuid.uuid4().hex[:8]}", {}, None)
    finally:
        await orchestrator.close()

    message = str(refused.value)
    assert message.startswith(f"Airflow at {composer.proxy.base_url}: 403 Forbidden — the bot's Google")
    assert "may not trigger DAG amd_ok" in message
    assert "Op or User role" in message
    assert "composer.environments.get" in message
    assert "google-token" not in message


@pytest.mark.airflow
async def test_a_busy_web_server_is_retried_then_reported(composer: Composer) -> None:
    orchestrator = composer.orchestrator(backoff_s=0.01)
    try:
        await orchestrator.list_dags()
        sent = len(composer.proxy.calls)
        composer.proxy.fail_next = [503, 429]
        assert "amd_ok" in await orchestrator.list_dags()
        assert len(composer.proxy.calls) - sent == 3

        composer.proxy.fail_next = [500] * 4
        with pytest.raises(
            BackendUnavailable, match=r"unreachable \(500 Internal Server Error\); tried 4x to list DAGs"
        ):
            await orchestrator.list_dags()
    finally:
        await orchestrator.close()


@pytest.mark.parametrize(
    ("name", "says"),
    [
        (f"projects/{PROJECT}/locations/europe-west1/environments/prod-us", r"not found \(expected"),
        (
            "projects/other-team/locations/europe-west1/environments/prod-eu",
            r"permission denied — .* IAM permission composer\.environments\.get",
        ),
    ],
    ids=["unknown", "forbidden"],
)
async def test_an_environment_the_api_will_not_give_is_named_with_why(name: str, says: str) -> None:
    google = Google(projects={PROJECT})
    async with EnvironmentsApi(google) as api:
        orchestrator = ComposerOrchestrator.for_environment(
            name, api_endpoint=api.base_url, credentials=google.account()
        )
        with pytest.raises(BackendUnavailable, match=f"Composer environment {name}:? {says}"):
            await orchestrator.list_dags()
        await orchestrator.close()


async def test_the_settings_find_the_api_endpoint_and_google_credentials_as_in_production(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Application Default Credentials from a service account key file: the Composer API client signs
    its own JWT with the key, as Google's client libraries do with a key."""
    google = Google(projects={PROJECT})
    async with EnvironmentsApi(google) as api:
        key_file = google.key_file(tmp_path / "key.json", f"{api.base_url}/token")
        monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key_file))
        settings = isolated_settings(
            tmp_path,
            orchestrator="composer",
            composer_environment=ENVIRONMENT,
            composer_api_endpoint=api.base_url,
        )
        orchestrator = ComposerOrchestrator.from_settings(settings)
        try:
            with pytest.raises(BackendUnavailable, match="prod-eu not found"):  # none registered there
                await orchestrator.list_dags()
        finally:
            await orchestrator.close()

    assert orchestrator.environment == "composer: prod-eu"
    [(name, authorization)] = api.calls
    assert name == ENVIRONMENT and google.honours(authorization)
    with pytest.raises(ValueError, match="AMD_COMPOSER_ENVIRONMENT"):
        ComposerOrchestrator.from_settings(isolated_settings(tmp_path, orchestrator="composer"))


async def test_a_composer_api_that_never_answers_fails_fast_instead_of_freezing_every_call() -> None:
    """One black-holed get_environment used to hold the connection lock forever, and every Airflow
    call queued behind it. The real client talks to a local socket that accepts and stays silent."""
    async with black_hole() as port:
        orchestrator = ComposerOrchestrator.for_environment(
            ENVIRONMENT,
            api_endpoint=f"http://127.0.0.1:{port}",
            credentials=Google(projects={PROJECT}).account(),
            composer_timeout_s=0.5,
        )
        try:
            async with asyncio.timeout(10):
                first, second = await asyncio.gather(
                    orchestrator.list_dags(), orchestrator.list_dags(), return_exceptions=True
                )
        finally:
            await orchestrator.close()

    for failure in (first, second):
        assert isinstance(failure, BackendUnavailable)
        assert "Composer API did not answer within 0.5 s" in str(failure)
        assert "prod-eu" in str(failure)


async def test_a_composer_api_endpoint_nobody_listens_on_is_named() -> None:
    async with black_hole() as port:
        pass  # closed again: nothing listens there now
    orchestrator = ComposerOrchestrator.for_environment(
        ENVIRONMENT, api_endpoint=f"http://127.0.0.1:{port}", credentials=Google(projects={PROJECT}).account()
    )
    try:
        with pytest.raises(
            BackendUnavailable, match=rf"Composer API at http://127.0.0.1:{port} is unreachable"
        ):
            await orchestrator.list_dags()
    finally:
        await orchestrator.close()
