"""The Orchestrator port on Cloud Composer: the Airflow REST client of airflow.py with Google credentials.

The web server's URL is read once from the Composer API (`get_environment` → `config.airflow_uri`) and
cached; each request carries a Google OAuth access token. The Composer API is read with the official client
(google-cloud-orchestration-airflow) over its REST transport: plain HTTPS that reaches Google, a private
endpoint (AMD_COMPOSER_API_ENDPOINT) or the suite's local Environments API alike, so the path the tests
prove is production's. That client and google-auth's token refresh do blocking I/O: both run in threads,
never on the event loop.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import google.auth
import google.auth.transport.requests
import requests
from google.api_core import exceptions as api_errors
from google.auth import exceptions as auth_errors
from google.auth.credentials import Credentials

from bot.adapters.orchestrator.airflow import AirflowOrchestrator
from bot.adapters.orchestrator.airflow_auth import Connection, Connector, Transient, detect_api
from bot.adapters.orchestrator.airflow_http import AirflowHttp
from bot.foundation.ports import BackendUnavailable
from bot.foundation.settings import Settings

SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]
COMPOSER_HINTS = {
    401: "the bot's Google credentials were rejected (expired, revoked, or of another project)",
    403: (
        "the bot's Google identity may not {action}: give its Airflow user the Op or User role in the "
        "environment's Airflow RBAC (Viewer only reads), and IAM permission composer.environments.get"
    ),
}


class GoogleAuth:
    """Bearer tokens from Application Default Credentials (or the given ones), refreshed in a thread."""

    def __init__(self, credentials: Credentials | None = None) -> None:
        self._credentials = credentials
        self._stale = False
        self._lock = asyncio.Lock()  # one refresh at a time; the others wait for its token

    async def credentials(self) -> Credentials:
        if self._credentials is None:
            try:
                found, _project = await asyncio.to_thread(google.auth.default, scopes=SCOPES)
            except auth_errors.DefaultCredentialsError as exc:
                raise BackendUnavailable(
                    "no Google credentials for Cloud Composer: run with a service account "
                    f"or set GOOGLE_APPLICATION_CREDENTIALS ({exc})"
                ) from None
            self._credentials = found
        return self._credentials

    async def headers(self, session: aiohttp.ClientSession) -> dict[str, str]:
        async with self._lock:
            credentials = await self.credentials()
            if self._stale or not credentials.valid:
                await self._refresh(credentials)
                self._stale = False
            return {"Authorization": f"Bearer {credentials.token}"}

    def invalidate(self) -> None:
        self._stale = True

    @staticmethod
    async def _refresh(credentials: Credentials) -> None:
        try:
            await asyncio.to_thread(credentials.refresh, google.auth.transport.requests.Request())
        except auth_errors.TransportError as exc:
            raise Transient(f"Google token endpoint unreachable: {exc}") from None
        except auth_errors.RefreshError as exc:
            raise BackendUnavailable(f"the bot's Google credentials could not be refreshed: {exc}") from None


def composer_connector(
    name: str, auth: GoogleAuth, *, api_endpoint: str | None, timeout_s: float
) -> Connector:
    """Finds the environment's Airflow web server and which REST API it serves."""

    async def connect(session: aiohttp.ClientSession) -> Connection:
        environment = await _get_environment(await auth.credentials(), api_endpoint, name, timeout_s)
        airflow_uri = str(environment.config.airflow_uri).rstrip("/")
        if not airflow_uri:
            raise BackendUnavailable(f"Composer environment {name} has no Airflow web server yet")
        # Composer runs Airflow 2 or 3; the proxy rejects anonymous calls, so the probe carries the token.
        api = await detect_api(session, airflow_uri, await auth.headers(session))
        return Connection(airflow_uri, api, auth, COMPOSER_HINTS)

    return connect


def _read_environment(credentials: Credentials, api_endpoint: str | None, name: str, timeout_s: float) -> Any:
    # Imported here, in the thread: the client is heavy, and only a Composer deployment needs it. The
    # environment is read once per connection, so the client lives for one read.
    from google.cloud.orchestration.airflow.service_v1 import EnvironmentsClient

    options = {"api_endpoint": api_endpoint} if api_endpoint else None
    with EnvironmentsClient(credentials=credentials, transport="rest", client_options=options) as client:
        return client.get_environment(name=name, timeout=timeout_s)


async def _get_environment(
    credentials: Credentials, api_endpoint: str | None, name: str, timeout_s: float
) -> Any:
    # Bounded here as a whole, whatever the client does: every Airflow call waits on this one (the
    # connection lock), so a silent Composer API must fail fast, and the next call tries again. The
    # request's own timeout ends the thread soon after.
    try:
        async with asyncio.timeout(timeout_s):
            return await asyncio.to_thread(_read_environment, credentials, api_endpoint, name, timeout_s)
    except (TimeoutError, requests.Timeout):
        raise BackendUnavailable(
            f"Composer API did not answer within {timeout_s:g} s reading environment {name} "
            "(AMD_COMPOSER_TIMEOUT_S)"
        ) from None
    except requests.RequestException as exc:
        where = api_endpoint or "composer.googleapis.com"
        raise BackendUnavailable(f"Composer API at {where} is unreachable ({exc})") from None
    except auth_errors.GoogleAuthError as exc:
        raise BackendUnavailable(f"the bot's Google credentials could not be refreshed: {exc}") from None
    # Over REST, google-api-core picks the class by HTTP status (403 Forbidden, 401 Unauthorized), not by
    # the gRPC-style names (PermissionDenied, Unauthenticated) the body carries.
    except api_errors.Forbidden:
        raise BackendUnavailable(
            f"Composer environment {name}: permission denied — the bot's Google identity needs IAM "
            "permission composer.environments.get (e.g. role roles/composer.user)"
        ) from None
    except api_errors.NotFound:
        raise BackendUnavailable(
            f"Composer environment {name} not found (expected projects/P/locations/L/environments/E)"
        ) from None
    except api_errors.Unauthorized:
        raise BackendUnavailable(f"Composer API rejected the bot's Google credentials for {name}") from None
    except api_errors.GoogleAPIError as exc:
        raise BackendUnavailable(f"Composer API could not read environment {name}: {exc}") from None


class ComposerOrchestrator(AirflowOrchestrator):
    """Airflow on Composer: the same REST client, found through the Composer API, with Google auth."""

    @classmethod
    def from_settings(cls, settings: Settings) -> ComposerOrchestrator:
        if not settings.composer_environment:
            raise ValueError(
                "orchestrator=composer needs AMD_COMPOSER_ENVIRONMENT (projects/P/locations/L/environments/E)"
            )
        return cls.for_environment(
            settings.composer_environment,
            api_endpoint=settings.composer_api_endpoint,
            composer_timeout_s=settings.composer_timeout_s,
            timeout_s=settings.airflow_timeout_s,
        )

    @classmethod
    def for_environment(
        cls,
        name: str,  # projects/P/locations/L/environments/E
        *,
        api_endpoint: str | None = None,  # the Composer API's; default: Google's (composer.googleapis.com)
        credentials: Credentials | None = None,  # default: Application Default Credentials
        composer_timeout_s: float = 30.0,  # for reading the environment from the Composer API
        **options: Any,  # tune the HTTP client (see AirflowHttp)
    ) -> ComposerOrchestrator:
        short = name.rsplit("/", 1)[-1]
        connector = composer_connector(
            name, GoogleAuth(credentials), api_endpoint=api_endpoint, timeout_s=composer_timeout_s
        )
        return cls(
            AirflowHttp(connector, where=f"Composer environment {short}", **options),
            environment=f"composer: {short}",
        )
