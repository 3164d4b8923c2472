"""One request to an Airflow REST API, done right: auth, bounded retries, and errors a user can act on.

Reads (and triggers, whose caller-chosen run id makes a repeat harmless) are retried on connection errors,
429 and 5xx with exponential backoff and full jitter, honouring Retry-After. A 401 means an expired token:
the auth logs in again, once. Everything else becomes `BackendUnavailable` naming the server and what we
tried, and never a credential.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Collection, Mapping, Sequence
from typing import Any, NamedTuple
from urllib.parse import quote

import aiohttp
from yarl import URL

from bot.adapters.orchestrator.airflow_auth import (
    TRANSIENT_STATUSES,
    Connection,
    Connector,
    Transient,
    public_url,
    transient,
)
from bot.foundation.ports import BackendUnavailable

log = logging.getLogger(__name__)
Json = dict[str, Any]
_DEFAULT_HINTS = {
    400: "Airflow rejected the request to {action}",
    404: "not found when trying to {action}",
    422: "Airflow rejected the request to {action}",
}


class Reply(NamedTuple):
    status: int
    body: Json
    conn: Connection


class AirflowHttp:
    def __init__(
        self,
        connector: Connector,
        *,
        where: str,  # names the server in messages until it is found, e.g. "Composer environment prod"
        session: aiohttp.ClientSession | None = None,
        page_limit: int = 100,  # Airflow's default [api] maximum_page_limit
        attempts: int = 4,
        backoff_s: float = 0.5,
        timeout_s: float = 30.0,
    ) -> None:
        self.page_limit = page_limit
        self._connector = connector
        self._where = where
        self._conn: Connection | None = None
        self._conn_lock = asyncio.Lock()  # concurrent first calls must find the server once
        self._session = session
        self._owns_session = session is None
        self._attempts = attempts
        self._backoff_s = backoff_s
        self._timeout_s = timeout_s

    async def connection(self) -> Connection:
        """The server's API version and auth, found on first use. For callers outside `call`, whose
        connection failures `call` itself retries: here an unreachable server is BackendUnavailable."""
        try:
            return await self._discover()
        except (aiohttp.ClientError, TimeoutError) as exc:
            why = str(exc) or type(exc).__name__
            raise BackendUnavailable(f"Airflow at {self._location()} is unreachable ({why})") from None

    async def _discover(self) -> Connection:
        async with self._conn_lock:
            if self._conn is None:
                self._conn = await self._connector(self._client())
            return self._conn

    async def call(
        self,
        method: str,
        path: Sequence[str],
        *,
        action: str,  # what we try, for messages: "trigger DAG amd_ok"
        payload: Json | None = None,
        params: Mapping[str, int | str] | None = None,
        expect: Collection[int] = (),  # error statuses the caller handles itself
        retry: bool = True,
    ) -> Reply:
        attempt, reauthenticated = 0, False
        while True:
            attempt += 1
            try:
                conn = await self._discover()
                url = URL(
                    f"{conn.base_url}/api/{conn.api}/{'/'.join(quote(p, safe='~') for p in path)}",
                    encoded=True,
                )
                headers = await conn.auth.headers(self._client())
                async with self._client().request(
                    method, url, json=payload, params=params, headers=headers
                ) as resp:
                    body = await _read_json(resp)
                    # An expired JWT or Google token (401), or a JWT signed before the server's key changed.
                    stale = resp.status == 401 or (
                        resp.status == 403 and _detail(body) == "Invalid JWT token"
                    )
                    if stale and not reauthenticated:
                        conn.auth.invalidate()
                        reauthenticated, attempt = True, attempt - 1
                        continue
                    if resp.status < 300 or resp.status in expect:
                        return Reply(resp.status, body if isinstance(body, dict) else {}, conn)
                    if resp.status in TRANSIENT_STATUSES:
                        raise transient(resp)
                    raise BackendUnavailable(_refusal(conn, resp, body, action))
            except (aiohttp.ClientConnectionError, TimeoutError, Transient) as exc:
                why = f"timed out after {self._timeout_s:g} s" if isinstance(exc, TimeoutError) else str(exc)
                if not retry or attempt >= self._attempts:
                    raise BackendUnavailable(
                        f"Airflow at {self._location()} is unreachable ({why}); tried {attempt}x to {action}"
                    ) from None
                delay = self._delay(attempt, exc)
                log.warning("airflow: %s failed (%s); retry %d in %.1f s", action, why, attempt, delay)
                await asyncio.sleep(delay)
            except aiohttp.ClientError as exc:
                raise BackendUnavailable(f"Airflow at {self._location()} failed to {action}: {exc}") from None

    async def get_all(self, path: Sequence[str], key: str, *, action: str) -> list[Json]:
        """Every item of a paged GET collection (limit/offset)."""
        items: list[Json] = []
        while True:
            params = {"limit": self.page_limit, "offset": len(items)}
            body = (await self.call("GET", path, params=params, action=action)).body
            items.extend(body[key])
            # Servers cap the limit at their own maximum, so count what came back.
            if not body[key] or len(items) >= body.get("total_entries", 0):
                return items

    async def close(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    def _client(self) -> aiohttp.ClientSession:
        # Created on first use: a ClientSession belongs to the running loop, and wiring may run before it.
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self._timeout_s))
        return self._session

    def _location(self) -> str:
        return public_url(self._conn.base_url) if self._conn else self._where

    def _delay(self, attempt: int, exc: Exception) -> float:
        if isinstance(exc, Transient) and exc.retry_after is not None:
            return min(exc.retry_after, 30.0)
        # Full jitter: replicas that failed together must not retry together.
        return random.uniform(0, self._backoff_s * 2 ** (attempt - 1))


async def _read_json(resp: aiohttp.ClientResponse) -> Any:
    # A proxy in front of Airflow (Composer's, a load balancer) may answer errors in HTML.
    text = await resp.text()
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def _refusal(conn: Connection, resp: aiohttp.ClientResponse, body: Any, action: str) -> str:
    hint = conn.hints.get(resp.status)
    if hint is None:
        detail = _detail(body)
        hint = _DEFAULT_HINTS.get(resp.status, "could not {action}") + (f" ({detail})" if detail else "")
    return (
        f"Airflow at {public_url(conn.base_url)}: {resp.status} {resp.reason} — {hint.format(action=action)}"
    )


def _detail(body: Any) -> str:
    """Airflow's own short explanation (v2: detail; v1: problem+json detail/title), input values left out."""
    detail = (body.get("detail") or body.get("title")) if isinstance(body, dict) else None
    if isinstance(detail, list):  # FastAPI validation errors
        detail = "; ".join(f"{'.'.join(map(str, e.get('loc', ())))}: {e.get('msg')}" for e in detail)
    # Braces are escaped because the hint is a format template.
    return str(detail)[:300].replace("{", "{{").replace("}", "}}") if detail else ""
