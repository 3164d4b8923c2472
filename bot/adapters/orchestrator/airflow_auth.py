"""How amd-bot finds out which REST API an Airflow speaks and proves who it is to it.

Open-source Airflow 3 serves `/api/v2` and wants a JWT from `POST /auth/token`; Airflow 2 serves `/api/v1`
with the basic-auth backend; Cloud Composer takes a Google access token (composer.py). The REST client in
airflow.py is the same for all of them: it asks a `Connector` once for a `Connection` and uses its `Auth`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

import aiohttp
from pydantic import SecretStr
from yarl import URL

from bot.foundation.ports import BackendUnavailable

ApiVersion = Literal["v1", "v2"]
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})


class Auth(Protocol):
    async def headers(self, session: aiohttp.ClientSession) -> dict[str, str]:
        """Headers that authenticate one request (may log in first)."""

    def invalidate(self) -> None:
        """Forget cached credentials: the server answered 401, so the next headers() must get new ones."""


@dataclass(frozen=True)
class Connection:
    base_url: str  # the web server's root, as configured, without a trailing slash
    api: ApiVersion
    auth: Auth
    # What to tell a user when the server refuses us, by HTTP status; "{action}" names what we tried.
    hints: Mapping[int, str]


Connector = Callable[[aiohttp.ClientSession], Awaitable[Connection]]


class Transient(Exception):
    """A failure worth retrying (429, 5xx, a token endpoint out of reach); Retry-After in seconds if sent."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def public_url(url: str) -> str:
    """The URL as shown to people: never with user:password@ in it."""
    return str(URL(url).with_user(None)).rstrip("/")


def transient(resp: aiohttp.ClientResponse) -> Transient:
    retry_after = resp.headers.get("Retry-After", "")
    # Retry-After may also be an HTTP date; Airflow and Google send seconds, so dates fall back to backoff.
    seconds = float(retry_after) if retry_after.strip().isdigit() else None
    return Transient(f"{resp.status} {resp.reason}", seconds)


async def detect_api(session: aiohttp.ClientSession, base_url: str, headers: Mapping[str, str]) -> ApiVersion:
    """Ask the server which API it serves: Airflow 3 answers /api/v2/version, Airflow 2 only /api/v1."""
    for api in ("v2", "v1"):
        async with session.get(f"{base_url}/api/{api}/version", headers=headers) as resp:
            if resp.status in TRANSIENT_STATUSES:
                raise transient(resp)
            # 401/403 still prove the API exists; the next real call explains the refusal.
            if resp.status != 404:
                return "v2" if api == "v2" else "v1"
    raise BackendUnavailable(
        f"{public_url(base_url)} does not look like Airflow: neither /api/v2 nor /api/v1 answers "
        "(check the Airflow URL setting)"
    )


class BasicAuth:
    """Airflow 2's basic-auth API backend."""

    def __init__(self, username: str, password: SecretStr) -> None:
        self._header = aiohttp.encode_basic_auth(username, password.get_secret_value())

    async def headers(self, session: aiohttp.ClientSession) -> dict[str, str]:
        return {"Authorization": self._header}

    def invalidate(self) -> None:
        # Nothing is cached: a 401 with basic auth means the password is wrong, and that is reported.
        return None


class JwtAuth:
    """Airflow 3: trade username and password for a JWT at POST /auth/token; log in again when it expires."""

    def __init__(self, base_url: str, username: str, password: SecretStr) -> None:
        self._base_url = base_url
        self._username = username
        self._password = password
        self._token: str | None = None
        self._lock = asyncio.Lock()  # concurrent first calls must not log in N times

    async def headers(self, session: aiohttp.ClientSession) -> dict[str, str]:
        async with self._lock:
            if self._token is None:
                self._token = await self._login(session)
            return {"Authorization": f"Bearer {self._token}"}

    def invalidate(self) -> None:
        self._token = None

    async def _login(self, session: aiohttp.ClientSession) -> str:
        body = {"username": self._username, "password": self._password.get_secret_value()}
        async with session.post(f"{self._base_url}/auth/token", json=body) as resp:
            if resp.status in (200, 201):
                return str((await resp.json())["access_token"])
            if resp.status in TRANSIENT_STATUSES:
                raise transient(resp)
            raise BackendUnavailable(
                f"Airflow at {public_url(self._base_url)}: {resp.status} {resp.reason} at login — "
                f"the password of Airflow user {self._username!r} was rejected (check the Airflow "
                "username and password settings)"
            )


PASSWORD_HINTS: Mapping[int, str] = {
    401: "the bot's Airflow user or password was rejected (check the Airflow username and password settings)",
    403: "the bot's Airflow user lacks permission to {action}",
}


def password_connector(url: str, username: str, password: SecretStr) -> Connector:
    """Open-source Airflow: JWT for Airflow 3, basic auth for Airflow 2, chosen by what the server serves."""
    base_url = url.rstrip("/")

    async def connect(session: aiohttp.ClientSession) -> Connection:
        # The version endpoints are public in both majors, so no credentials are sent before we know which.
        api = await detect_api(session, base_url, {})
        auth: Auth = JwtAuth(base_url, username, password) if api == "v2" else BasicAuth(username, password)
        return Connection(base_url, api, auth, PASSWORD_HINTS)

    return connect
