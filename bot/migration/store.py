"""The migration ledger's queries, on SqlState's engine (SQLite or PostgreSQL).

Every write is an upsert keyed like the ledger's identity (migration, source, chunk), so a report sent
twice (a client retry after a timeout, a job resumed after a crash) replaces the first instead of
adding to it. Progress is read as aggregates: a ledger of 100k chunks never travels to Python.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Insert, Table, and_, bindparam, case, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.migration.progress import Intent, SourceTotals, Window
from bot.state.schema import migration_chunks, migration_control, migration_sources

_C = migration_chunks.c


@dataclass(frozen=True)
class ChunkRow:
    source: str
    chunk: str
    status: str
    rows: int
    bytes: int
    checksum: str | None


@dataclass(frozen=True)
class IntentRow:
    intent: Intent
    by: str | None
    at: datetime | None


class MigrationStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._pending: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    def _upsert(self, table: Table) -> Any:
        # Both dialects spell "insert … on conflict do update"; SQLAlchemy keeps them in separate modules.
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        return dialect.insert(table)

    async def put_chunk(self, migration: str, chunk: ChunkRow, at: datetime) -> None:
        """Stored when this returns. Reports arriving together are committed together: one commit
        (one fsync) per batch instead of per report, and one writer instead of many competing for
        SQLite's lock."""
        row = {
            "migration": migration,
            "source": chunk.source,
            "chunk": chunk.chunk,
            "status": chunk.status,
            "row_count": chunk.rows,
            "byte_count": chunk.bytes,
            "checksum": chunk.checksum,
            "target_checksum": None,
            "attempts": 1,
            "reported_at": at,
        }
        done = asyncio.get_running_loop().create_future()
        self._pending.append((row, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_pending())
        await done

    async def _write_pending(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                async with self.engine.begin() as conn:
                    # executemany: row by row in order, so a later report of a chunk wins in a batch too.
                    await conn.execute(self._chunk_upsert, [row for row, _ in batch])
            except Exception as exc:
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for _, done in batch:
                if not done.done():  # the caller may have gone (a client hung up); the row is stored
                    done.set_result(None)

    @property
    def _chunk_upsert(self) -> Insert:
        stmt = self._upsert(migration_chunks)
        new = stmt.excluded
        upsert: Insert = stmt.on_conflict_do_update(
            index_elements=[_C.migration, _C.source, _C.chunk],
            set_={
                "status": new.status,
                "row_count": new.row_count,
                "byte_count": new.byte_count,
                "checksum": new.checksum,
                # The chunk was copied again: a target checksum from before says nothing about it now.
                "target_checksum": None,
                "attempts": _C.attempts + 1,
                "reported_at": new.reported_at,
            },
        )
        return upsert

    async def forget(self, migration: str) -> None:
        """Drop everything recorded for `migration` (chunks, totals, intent): it starts from nothing."""
        async with self.engine.begin() as conn:
            for table in (migration_chunks, migration_sources, migration_control):
                await conn.execute(delete(table).where(table.c.migration == migration))

    async def put_expected(self, migration: str, totals: Mapping[str, int], at: datetime) -> None:
        async with self.engine.begin() as conn:
            for source, expected in totals.items():
                await conn.execute(
                    self._source_upsert(migration, source, {"expected": expected, "expected_at": at})
                )

    async def put_validation(
        self, migration: str, source: str, target_rows: int, checksums: Mapping[str, str], at: datetime
    ) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                self._source_upsert(migration, source, {"target_rows": target_rows, "validated_at": at})
            )
            if checksums:
                stmt = (
                    update(migration_chunks)
                    .where(_C.migration == migration, _C.source == source, _C.chunk == bindparam("c"))
                    .values(target_checksum=bindparam("t"))
                )
                await conn.execute(stmt, [{"c": chunk, "t": value} for chunk, value in checksums.items()])

    def _source_upsert(self, migration: str, source: str, values: Mapping[str, Any]) -> Insert:
        stmt = self._upsert(migration_sources).values(migration=migration, source=source, **values)
        update_only = {k: stmt.excluded[k] for k in values}
        upsert: Insert = stmt.on_conflict_do_update(
            index_elements=[migration_sources.c.migration, migration_sources.c.source], set_=update_only
        )
        return upsert

    async def put_intent(self, migration: str, intent: Intent, by: str, at: datetime) -> None:
        stmt = self._upsert(migration_control).values(migration=migration, intent=intent, by=by, at=at)
        stmt = stmt.on_conflict_do_update(
            index_elements=[migration_control.c.migration],
            set_={"intent": stmt.excluded.intent, "by": stmt.excluded.by, "at": stmt.excluded.at},
        )
        async with self.engine.begin() as conn:
            await conn.execute(stmt)

    async def intent(self, migration: str) -> IntentRow:
        query = select(migration_control).where(migration_control.c.migration == migration)
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        return IntentRow("run", None, None) if row is None else IntentRow(row["intent"], row["by"], row["at"])

    async def chunks(self, migration: str, source: str | None = None) -> dict[tuple[str, str], str]:
        """(source, chunk id) → status of the last report, for a job deciding what is left to copy."""
        query = select(_C.source, _C.chunk, _C.status).where(_C.migration == migration)
        if source is not None:
            query = query.where(_C.source == source)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return {(r["source"], r["chunk"]): r["status"] for r in rows}

    async def failed_chunks(self, migration: str, limit: int) -> list[tuple[str, str]]:
        query = (
            select(_C.source, _C.chunk)
            .where(_C.migration == migration, _C.status == "failed")
            .order_by(_C.reported_at.desc(), _C.source, _C.chunk)
            .limit(limit)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [(r["source"], r["chunk"]) for r in rows]

    async def sources(self, migration: str, since: datetime) -> tuple[dict[str, SourceTotals], Window]:
        """Per-source aggregates (kind left for the caller to fill in) and the ok reports after `since`
        (the rate window), in one read."""
        ok = _C.status == "ok"
        compared = and_(_C.checksum.is_not(None), _C.target_checksum.is_not(None))
        recent = and_(ok, _C.reported_at > since)
        per_source = (
            select(
                _C.source,
                func.sum(case((ok, _C.row_count), else_=0)).label("rows"),
                func.sum(case((ok, _C.byte_count), else_=0)).label("bytes"),
                func.sum(case((ok, 1), else_=0)).label("chunks_ok"),
                func.sum(case((ok, 0), else_=1)).label("failed"),
                func.min(_C.reported_at).label("first_at"),
                func.max(_C.reported_at).label("last_at"),
                func.sum(case((compared, 1), else_=0)).label("checksums_compared"),
                func.sum(case((and_(compared, _C.checksum != _C.target_checksum), 1), else_=0)).label(
                    "checksums_mismatched"
                ),
                func.sum(case((recent, _C.row_count), else_=0)).label("window_rows"),
                func.sum(case((recent, 1), else_=0)).label("window_reports"),
            )
            .where(_C.migration == migration)
            .group_by(_C.source)
        )
        declared = select(migration_sources).where(migration_sources.c.migration == migration)
        async with self.engine.connect() as conn:
            aggregates = (await conn.execute(per_source)).mappings().all()
            extra = {r["source"]: r for r in (await conn.execute(declared)).mappings()}
        rows: dict[str, SourceTotals] = {}
        for r in aggregates:
            rows[r["source"]] = SourceTotals(
                r["source"],
                rows=int(r["rows"]),
                bytes=int(r["bytes"]),
                chunks_ok=int(r["chunks_ok"]),
                failed=int(r["failed"]),
                first_at=r["first_at"],
                last_at=r["last_at"],
                checksums_compared=int(r["checksums_compared"]),
                checksums_mismatched=int(r["checksums_mismatched"]),
            )
        window = Window(
            sum(int(r["window_rows"]) for r in aggregates), sum(int(r["window_reports"]) for r in aggregates)
        )
        for source, d in extra.items():
            rows[source] = replace(
                rows.get(source, SourceTotals(source)),
                expected=d["expected"],
                target_rows=d["target_rows"],
                validated_at=d["validated_at"],
            )
        return rows, window
