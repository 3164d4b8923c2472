"""What copy jobs send to the migration ledger, and the HTTP client of the bot's ingest API.

The same pydantic bodies validate at the HTTP edge (bot/migration/ingest.py) and in the Reporter, so a
job learns about a bad report before it leaves the job.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Literal, Protocol, Self

import aiohttp
from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.migration.progress import Intent

log = logging.getLogger(__name__)
RETRIES = 4  # reports are idempotent, so resending after a timeout or a 5xx is harmless
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChunkReport(_Body):
    source: str = Field(min_length=1, max_length=128)
    chunk: str = Field(min_length=1, max_length=255)  # token range, ObjectId range, partition, ...
    rows: int = Field(ge=0)
    bytes: int = Field(0, ge=0)
    checksum: str | None = Field(None, min_length=1, max_length=128)
    status: Literal["ok", "failed"] = "ok"


class ExpectedTotals(_Body):
    sources: dict[str, int] = Field(min_length=1)  # source -> rows counted in the source

    @model_validator(mode="after")
    def _non_negative(self) -> Self:
        if any(n < 0 for n in self.sources.values()):
            raise ValueError("expected row counts cannot be negative")
        return self


class ValidationReport(_Body):
    source: str = Field(min_length=1, max_length=128)
    target_rows: int = Field(ge=0)  # rows of this source found in the target
    checksums: dict[str, str] = Field(default_factory=dict)  # chunk id -> checksum over target rows


class Transport(Protocol):
    async def report(self, name: str, chunk: ChunkReport) -> None: ...
    async def expected(self, name: str, totals: ExpectedTotals) -> None: ...
    async def validation(self, name: str, report: ValidationReport) -> None: ...
    async def intent(self, name: str) -> Intent: ...
    async def chunks(self, name: str, source: str) -> dict[str, str]: ...
    async def close(self) -> None: ...


class IngestRefused(Exception):
    """The bot answered 4xx: retrying the same request cannot help."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"ingest refused the request ({status}): {reason}")
        self.status = status
        self.reason = reason


class HttpTransport:
    def __init__(self, url: str, token: str, *, timeout_s: float = 30.0, backoff_s: float = 0.5) -> None:
        self.base = url.rstrip("/")
        self.backoff_s = backoff_s
        # The session is made on first use: aiohttp wants it created inside a running event loop.
        self._session: aiohttp.ClientSession | None = None
        self._headers = {"Authorization": f"Bearer {token}"}
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)

    def _url(self, name: str, tail: str = "") -> str:
        return f"{self.base}/migrations/{name}{tail}"

    async def _call(self, method: str, url: str, **kwargs: Any) -> Any:
        if self._session is None:
            self._session = aiohttp.ClientSession(headers=self._headers, timeout=self._timeout)
        attempt = 0
        while True:
            attempt += 1
            try:
                async with self._session.request(method, url, **kwargs) as response:
                    if response.status < 400:
                        return await response.json()
                    body = await response.text()
                    if response.status not in _RETRY_STATUS or attempt == RETRIES:
                        raise IngestRefused(response.status, body[:500])
            except (aiohttp.ClientConnectionError, TimeoutError) as exc:
                if attempt == RETRIES:
                    raise
                log.warning("ingest %s %s failed (%s); retrying", method, url, type(exc).__name__)
            await asyncio.sleep(self.backoff_s * 2 ** (attempt - 1))

    async def report(self, name: str, chunk: ChunkReport) -> None:
        await self._call("POST", self._url(name, "/chunks"), json=chunk.model_dump())

    async def expected(self, name: str, totals: ExpectedTotals) -> None:
        await self._call("PUT", self._url(name, "/expected"), json=totals.model_dump())

    async def validation(self, name: str, report: ValidationReport) -> None:
        await self._call("PUT", self._url(name, "/validation"), json=report.model_dump())

    async def intent(self, name: str) -> Intent:
        answer = await self._call("GET", self._url(name, "/control"))
        return "pause" if answer["intent"] == "pause" else "run"

    async def chunks(self, name: str, source: str) -> dict[str, str]:
        answer = await self._call("GET", self._url(name, "/chunks"), params={"source": source})
        return {str(k): str(v) for k, v in answer["chunks"].items()}

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
