"""History migrations made visible: the progress ledger, and the copy jobs' Reporter.

A copy job reports each chunk it finished (HTTP ingest or straight into the state store); the ledger
keeps the last report per (migration, source, chunk), so retries and resumed jobs never count twice.
The bot reads progress (bot/migration/progress.py) for the live card and the stall alert.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Literal, Self

from bot.foundation.migration_specs import MigrationSpec
from bot.migration.client import ChunkReport, ExpectedTotals, HttpTransport, Transport, ValidationReport
from bot.migration.progress import Intent, Progress, SourceTotals, progress
from bot.migration.store import ChunkRow, IntentRow, MigrationStore
from bot.state.store import SqlState


class UnknownMigration(LookupError):
    pass


class UnknownSource(ValueError):
    pass


class Ledger:
    """The progress ledger of the declared migrations. Every method takes the time it acts at."""

    def __init__(self, store: MigrationStore, specs: Sequence[MigrationSpec]) -> None:
        self.store = store
        self.specs = {s.name: s for s in specs}

    @classmethod
    def on(cls, state: SqlState, specs: Sequence[MigrationSpec]) -> Ledger:
        return cls(MigrationStore(state.engine), specs)

    def spec(self, name: str) -> MigrationSpec:
        try:
            return self.specs[name]
        except KeyError:
            declared = ", ".join(sorted(self.specs)) or "none"
            raise UnknownMigration(f"no migration {name!r} (declared: {declared})") from None

    def _check_sources(self, name: str, sources: Sequence[str]) -> None:
        spec = self.spec(name)
        unknown = [s for s in sources if spec.source(s) is None]
        if unknown:
            known = ", ".join(s.name for s in spec.sources)
            raise UnknownSource(f"{name} has no source {', '.join(unknown)} (sources: {known})")

    async def report(self, name: str, chunk: ChunkReport, *, at: datetime) -> None:
        self._check_sources(name, [chunk.source])
        row = ChunkRow(chunk.source, chunk.chunk, chunk.status, chunk.rows, chunk.bytes, chunk.checksum)
        await self.store.put_chunk(name, row, at)

    async def set_expected(self, name: str, totals: ExpectedTotals, *, at: datetime) -> None:
        self._check_sources(name, list(totals.sources))
        await self.store.put_expected(name, totals.sources, at)

    async def record_validation(self, name: str, report: ValidationReport, *, at: datetime) -> None:
        self._check_sources(name, [report.source])
        await self.store.put_validation(name, report.source, report.target_rows, report.checksums, at)

    async def set_intent(self, name: str, intent: Intent, *, by: str, at: datetime) -> None:
        self.spec(name)
        await self.store.put_intent(name, intent, by, at)

    async def intent(self, name: str) -> IntentRow:
        self.spec(name)
        return await self.store.intent(name)

    async def chunks(self, name: str, source: str) -> dict[str, str]:
        """Chunk id → status of its last report, for one source."""
        self._check_sources(name, [source])
        return {chunk: status for (_, chunk), status in (await self.store.chunks(name, source)).items()}

    async def failed_chunks(self, name: str, limit: int = 10) -> list[tuple[str, str]]:
        self.spec(name)
        return await self.store.failed_chunks(name, limit)

    async def progress(self, name: str, *, now: datetime) -> Progress:
        spec = self.spec(name)
        window = timedelta(seconds=spec.rate_window_s)
        rows, recent = await self.store.sources(name, now - window)
        intent = await self.store.intent(name)
        totals = []
        for source in spec.sources:
            row = rows.get(source.name, SourceTotals(source.name))
            counted = row.expected if row.expected is not None else source.expected_rows
            totals.append(replace(row, kind=source.kind, expected=counted))
        return progress(
            spec.name,
            spec.target,
            totals,
            recent,
            intent=intent.intent,
            now=now,
            window_length=window,
            stall_after=timedelta(seconds=spec.stall_after_s),
        )


# --- the copy jobs' client ---------------------------------------------------------------------------


def _utcnow() -> datetime:
    return datetime.now(UTC)


class DirectTransport:
    """Straight into the state store: the embedded default, where job and bot share a SQLite file."""

    def __init__(self, ledger: Ledger, state: SqlState, clock: Callable[[], datetime] = _utcnow) -> None:
        self.ledger, self.state, self.clock = ledger, state, clock

    async def report(self, name: str, chunk: ChunkReport) -> None:
        await self.ledger.report(name, chunk, at=self.clock())

    async def expected(self, name: str, totals: ExpectedTotals) -> None:
        await self.ledger.set_expected(name, totals, at=self.clock())

    async def validation(self, name: str, report: ValidationReport) -> None:
        await self.ledger.record_validation(name, report, at=self.clock())

    async def intent(self, name: str) -> Intent:
        return (await self.ledger.intent(name)).intent

    async def chunks(self, name: str, source: str) -> dict[str, str]:
        return await self.ledger.chunks(name, source)

    async def close(self) -> None:
        await self.state.close()


class Reporter:
    """What a copy job holds: `async with Reporter.http(...)` or `await Reporter.direct(...)`."""

    def __init__(self, migration: str, transport: Transport) -> None:
        self.migration = migration
        self.transport = transport

    @classmethod
    def http(cls, migration: str, url: str, token: str) -> Reporter:
        return cls(migration, HttpTransport(url, token))

    @classmethod
    async def direct(cls, migration: str, state_url: str, specs: Sequence[MigrationSpec]) -> Reporter:
        state = SqlState(state_url)
        await state.migrate()
        return cls(migration, DirectTransport(Ledger.on(state, specs), state))

    async def chunk(
        self,
        source: str,
        chunk: str,
        rows: int,
        *,
        bytes: int = 0,
        checksum: str | None = None,
        status: Literal["ok", "failed"] = "ok",
    ) -> None:
        report = ChunkReport(
            source=source, chunk=chunk, rows=rows, bytes=bytes, checksum=checksum, status=status
        )
        await self.transport.report(self.migration, report)

    async def expected(self, totals: Mapping[str, int]) -> None:
        await self.transport.expected(self.migration, ExpectedTotals(sources=dict(totals)))

    async def validated(self, source: str, target_rows: int, checksums: Mapping[str, str]) -> None:
        report = ValidationReport(source=source, target_rows=target_rows, checksums=dict(checksums))
        await self.transport.validation(self.migration, report)

    async def paused(self) -> bool:
        return await self.transport.intent(self.migration) == "pause"

    async def done_chunks(self, source: str) -> set[str]:
        """Chunks of `source` whose last report is ok: a resumed job skips exactly these."""
        chunks = await self.transport.chunks(self.migration, source)
        return {chunk for chunk, status in chunks.items() if status == "ok"}

    async def close(self) -> None:
        await self.transport.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()
