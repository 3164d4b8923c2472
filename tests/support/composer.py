"""Cloud Composer's side, on loopback, for the Composer adapter's tests: Google's token authority, the
Environments API (Composer v1 REST) and the proxy in front of the environment's Airflow web server.

    google = Google(projects={"acme-data"})
    async with EnvironmentsApi(google) as api, AirflowProxy(google, server) as proxy:
        api.environments[NAME] = proxy.base_url     # the environment's config.airflow_uri
        ComposerOrchestrator.for_environment(NAME, api_endpoint=api.base_url, credentials=google.account())

The Environments API answers `GET /v1/projects/*/locations/*/environments/*` with a real
`service_v1.Environment` as JSON (camelCase, as Google's REST endpoints answer), and refuses in Google's
error shape (`{"error": {"code", "message", "status", "details"}}`, which google-api-core maps to its
exceptions): 401 UNAUTHENTICATED without a token Google issued (or a JWT the service account signed),
403 PERMISSION_DENIED in a project the identity may not read, 404 NOT_FOUND for an unknown environment
there. The proxy wants such a Google bearer token too (401 otherwise, as Composer's web server does) and
forwards to the suite's real Airflow with that Airflow's own credentials: a JWT from its /auth/token
(Airflow 3) or basic auth (Airflow 2).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import jwt
from google.auth.credentials import Credentials
from google.cloud.orchestration.airflow.service_v1 import Environment, EnvironmentConfig

from tests.slack_fake.server import LocalServer
from tests.support.airflow import AirflowServer
from tests.support.proxy import HOP_BY_HOP

SERVICE_ACCOUNT = "amd-bot@acme-data.iam.gserviceaccount.com"


class Google:
    """Which access tokens Google issued and still honours, shared by everything that checks them."""

    def __init__(self, *, projects: Collection[str]) -> None:
        self.projects = set(projects)  # where the identity holds composer.environments.get
        self.issued: list[str] = []
        self.revoked: set[str] = set()
        self.refresh_threads: list[int] = []
        self.keys: dict[str, bytes] = {}  # key id → public key of SERVICE_ACCOUNT

    def account(self, token: str | None = None) -> ServiceAccount:
        """The bot's credentials; `token`: one it already holds (e.g. a revoked one)."""
        return ServiceAccount(self, token)

    def issue(self) -> str:
        self.refresh_threads.append(threading.get_ident())
        self.issued.append(f"google-token-{len(self.refresh_threads)}")
        return self.issued[-1]

    def honours(self, authorization: str) -> bool:
        token = authorization.removeprefix("Bearer ")
        if not authorization.startswith("Bearer "):
            return False
        if token.count(".") == 2:  # a JWT a service account signed itself, which Google's APIs take
            return self.signed(token)
        return token in self.issued and token not in self.revoked

    def signed(self, token: str) -> bool:
        try:
            return jwt.decode(token, certs=self.keys)["iss"] == SERVICE_ACCOUNT
        except ValueError:
            return False

    def key_file(self, path: Path, token_uri: str) -> Path:
        """A service account key file, as `gcloud iam service-accounts keys create` writes it (for
        GOOGLE_APPLICATION_CREDENTIALS), whose tokens come from `token_uri`."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        kid = str(len(self.keys) + 1)
        self.keys[kid] = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        private = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        account = {"type": "service_account", "client_email": SERVICE_ACCOUNT, "private_key_id": kid}
        path.write_text(json.dumps(account | {"private_key": private.decode(), "token_uri": token_uri}))
        return path


class ServiceAccount(Credentials):
    """A real google-auth Credentials whose refresh asks `Google` for the next numbered token."""

    def __init__(self, google: Google, token: str | None) -> None:
        super().__init__()
        self._google = google
        if token is not None:
            google.issued.append(token)
            self.token, self.expiry = token, _in_an_hour()

    def refresh(self, request: Any) -> None:
        self.token, self.expiry = self._google.issue(), _in_an_hour()


def _in_an_hour() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None) + timedelta(hours=1)  # google-auth: naive UTC


def google_error(code: int, status: str, message: str, **info: Any) -> web.Response:
    details = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", **info}] if info else []
    error = {"code": code, "message": message, "status": status, "details": details}
    return web.json_response({"error": error}, status=code)


class EnvironmentsApi(LocalServer):
    """Composer's `projects.locations.environments.get`; `environments` maps a name to its airflow_uri.
    Google's OAuth token endpoint answers at /token too, for the key files of `Google.key_file`."""

    def __init__(self, google: Google) -> None:
        self.google = google
        self.environments: dict[str, str] = {}
        self.calls: list[tuple[str, str]] = []  # name, authorization
        app = web.Application()
        app.router.add_get("/v1/projects/{project}/locations/{location}/environments/{env}", self._get)
        app.router.add_post("/token", self._token)
        super().__init__(app)

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        assert form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
        if not self.google.signed(str(form["assertion"])):
            return web.json_response({"error": "invalid_grant"}, status=400)
        answer = {"access_token": self.google.issue(), "expires_in": 3600, "token_type": "Bearer"}
        return web.json_response(answer)

    async def _get(self, request: web.Request) -> web.Response:
        name = request.path.removeprefix("/v1/")
        authorization = request.headers.get("Authorization", "")
        self.calls.append((name, authorization))
        if not self.google.honours(authorization):
            return google_error(
                401, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 "
                "access token, login cookie or other valid authentication credential.",
                reason="ACCESS_TOKEN_TYPE_UNSUPPORTED", domain="googleapis.com",
            )  # fmt: skip
        if request.match_info["project"] not in self.google.projects:
            return google_error(
                403, "PERMISSION_DENIED",
                f"Permission 'composer.environments.get' denied on resource '{name}' (or it may not exist).",
                reason="IAM_PERMISSION_DENIED", domain="composer.googleapis.com",
                metadata={"permission": "composer.environments.get", "resource": name},
            )  # fmt: skip
        if name not in self.environments:
            return google_error(404, "NOT_FOUND", f"Environment {name} could not be found.")
        config = EnvironmentConfig(airflow_uri=self.environments[name])
        environment = Environment(name=name, state=Environment.State.RUNNING, config=config)
        return web.Response(text=Environment.to_json(environment), content_type="application/json")


class AirflowProxy(LocalServer):
    """The environment's web server as the bot sees it: Google bearer tokens in, Airflow's own auth out.
    `fail_next` (statuses answered before forwarding again) and `forbid_triggers` (an identity without
    an Airflow role that may trigger: Airflow's 403) stand for what the suite's Airflow cannot be made
    to do on demand. `calls` records (method, path, authorization) of every request."""

    def __init__(self, google: Google, airflow: AirflowServer) -> None:
        self.google, self.airflow = google, airflow
        self.calls: list[tuple[str, str, str]] = []
        self.fail_next: list[int] = []
        self.forbid_triggers = False
        self._jwt: str | None = None
        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_route("*", "/{path:.*}", self._forward)
        self._session: aiohttp.ClientSession | None = None
        super().__init__(app)

    async def _forward(self, request: web.Request) -> web.Response:
        authorization = request.headers.get("Authorization", "")
        self.calls.append((request.method, request.path, authorization))
        if not self.google.honours(authorization):
            return web.json_response({"title": "Unauthorized", "status": 401}, status=401)
        if self.fail_next:
            return web.json_response(
                {"detail": "busy"}, status=self.fail_next.pop(0), headers={"Retry-After": "0"}
            )
        if self.forbid_triggers and request.method == "POST" and request.path.endswith("/dagRuns"):
            return web.json_response({"detail": "Forbidden"}, status=403)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        headers["Authorization"] = await self._airflow_auth()
        async with self._client().request(
            request.method, self.airflow.url + request.path_qs, data=await request.read(), headers=headers
        ) as resp:
            kept = {k: v for k, v in resp.headers.items() if k.lower() not in HOP_BY_HOP}
            return web.Response(status=resp.status, body=await resp.read(), headers=kept)

    async def _airflow_auth(self) -> str:
        if self.airflow.major == 2:
            return aiohttp.encode_basic_auth(self.airflow.username, self.airflow.password)
        if self._jwt is None:  # Airflow 3's JWT outlives a test
            login = {"username": self.airflow.username, "password": self.airflow.password}
            # Asked plain: this session leaves bodies compressed, for forwarding.
            identity = {"Accept-Encoding": "identity"}
            async with self._client().post(
                f"{self.airflow.url}/auth/token", json=login, headers=identity
            ) as resp:
                self._jwt = (await resp.json())["access_token"]
        return f"Bearer {self._jwt}"

    def _client(self) -> aiohttp.ClientSession:
        assert self._session is not None, "use `async with`"
        return self._session

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()  # bodies arrive decompressed: HOP_BY_HOP drops the encoding
        await super().start()

    async def stop(self) -> None:
        await super().stop()
        await self._client().close()
