"""The resumable copy job of the demo migration `delivery_address_history`.

For each source: plan its chunks, skip those the ledger holds as ok (and the target still has),
read → normalise → write each other chunk in one transaction, then report it. A job killed between
the write and the report redoes that chunk on the next run; the write replaces the chunk, so the
target ends with every source row exactly once. When a source is complete its target rows are
counted and checksummed per chunk (the validation).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bot.migration.ledger import Reporter
from demo.migration.chunks import Chunk, SourceReader
from demo.migration.normalise import DirtyRecord, checksum
from demo.migration.sources import ensure_sources
from demo.migration.target import Target

NAME = "delivery_address_history"
SOURCES = ("snowflake", "cassandra", "mongodb", "bigquery")  # oldest system first


class SimulatedFailure(RuntimeError):
    """`--fail-after N`: after N chunks the job writes one more to the target, reports it failed
    (as a job that caught its own crash would) and stops."""


@dataclass
class Outcome:
    copied: int = 0
    skipped: int = 0
    rows: int = 0
    failed: list[str] = field(default_factory=list)  # chunk ids whose records could not be normalised


class Throttle:
    """Caps rows/s so a person can watch the card move (`--rate`)."""

    def __init__(self, rows_per_s: float | None) -> None:
        self.rows_per_s = rows_per_s
        self.started = time.monotonic()
        self.rows = 0

    async def after(self, rows: int) -> None:
        if not self.rows_per_s:
            return
        self.rows += rows
        ahead = self.rows / self.rows_per_s - (time.monotonic() - self.started)
        if ahead > 0:
            await asyncio.sleep(ahead)


async def migrate(
    reporter: Reporter,
    *,
    sources_dir: Path,
    warehouse: Path,
    table: str,
    rate: float | None = None,
    fail_after: int | None = None,
    pause_poll_s: float = 1.0,
    say: Callable[[str], None] = lambda _line: None,
) -> Outcome:
    files = await asyncio.to_thread(ensure_sources, sources_dir)
    reader = await asyncio.to_thread(SourceReader, files)
    target = Target(warehouse, table)
    outcome = Outcome()
    try:
        counts = {s: await asyncio.to_thread(reader.count, s) for s in SOURCES}
        await reporter.expected(counts)
        await asyncio.to_thread(target.ensure)
        throttle = Throttle(rate)
        for source in SOURCES:
            plan = await asyncio.to_thread(reader.plan, source)
            done = await reporter.done_chunks(source)
            present = await asyncio.to_thread(target.chunk_rows, source)
            todo = [c for c in plan if not (c.id in done and c.id in present)]
            outcome.skipped += len(plan) - len(todo)
            say(f"{source}: {counts[source]:,} rows in {len(plan)} chunks, {len(todo)} to copy")
            failures = len(outcome.failed)
            for chunk in todo:
                # The intent lives in the ledger (maybe in another process): polling is how it is seen.
                while await reporter.paused():  # noqa: ASYNC110
                    await asyncio.sleep(pause_poll_s)
                await throttle.after(await _copy(chunk, reader, target, reporter, outcome, fail_after))
            if len(outcome.failed) == failures:  # a source with a failed chunk is not complete
                rows, sums = await asyncio.to_thread(target.checksums, source)
                await reporter.validated(source, rows, sums)
                say(f"{source}: validated, {rows:,} rows in the target (expected {counts[source]:,})")
    finally:
        await asyncio.to_thread(reader.close)
    return outcome


async def _copy(
    chunk: Chunk,
    reader: SourceReader,
    target: Target,
    reporter: Reporter,
    outcome: Outcome,
    fail_after: int | None,
) -> int:
    """Copy one chunk; returns the rows copied."""
    try:
        rows = await asyncio.to_thread(reader.read, chunk)
    except DirtyRecord:
        # The other chunks can still move; the failed one shows on the card until a rerun copies it.
        outcome.failed.append(chunk.id)
        await reporter.chunk(chunk.source, chunk.id, 0, status="failed")
        return 0
    await asyncio.to_thread(target.write, chunk.source, chunk.id, rows, datetime.now(UTC))
    if fail_after is not None and outcome.copied >= fail_after:
        # The worst moment to die: the rows are in the target, the ledger does not know it.
        await reporter.chunk(chunk.source, chunk.id, len(rows), status="failed")
        raise SimulatedFailure(
            f"simulated failure after {fail_after} chunks (during {chunk.source} {chunk.id})"
        )
    size = sum(len(r.canonical().encode()) for r in rows)
    await reporter.chunk(chunk.source, chunk.id, len(rows), bytes=size, checksum=checksum(rows))
    outcome.copied += 1
    outcome.rows += len(rows)
    return len(rows)
