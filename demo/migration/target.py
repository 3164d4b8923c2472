"""The migration's target table in the demo warehouse (DuckDB), written one chunk at a time.

DuckDB lets one process write a file, and a writer shuts out readers in other processes (the bot,
dbt). So every chunk opens the file, writes in one transaction and closes it again; a connection is
never held between chunks, and a busy file is waited for, not failed on. All functions block: call
them in a thread.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from demo.migration.normalise import Address, checksum

_LOCK_CONFLICT = "lock"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
COLUMNS = (
    ("source", "VARCHAR"), ("source_key", "VARCHAR"), ("chunk", "VARCHAR"), ("user_id", "BIGINT"),
    ("street", "VARCHAR"), ("city", "VARCHAR"), ("postcode", "VARCHAR"), ("country", "VARCHAR"),
    ("changed_at", "TIMESTAMPTZ"), ("migrated_at", "TIMESTAMPTZ"),
)  # fmt: skip


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


@contextmanager
def connected(path: Path, *, read_only: bool, wait_s: float = 60.0) -> Iterator[duckdb.DuckDBPyConnection]:
    deadline = time.monotonic() + wait_s
    pause = 0.02
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as exc:
            if _LOCK_CONFLICT not in str(exc).lower() or time.monotonic() > deadline:
                raise
            time.sleep(pause)  # another process (the bot, dbt) has the file for a moment
            pause = min(pause * 2, 0.5)
    try:
        yield con
    finally:
        con.close()


class Target:
    def __init__(self, warehouse: Path, table: str) -> None:
        schema, _, name = table.rpartition(".")
        self.warehouse = warehouse
        self.schema_name, self.name = schema or "main", name
        self.schema = quote(self.schema_name)
        self.table = f"{self.schema}.{quote(name)}"

    def ensure(self) -> None:
        columns = ", ".join(f"{quote(name)} {kind}" for name, kind in COLUMNS)
        self.warehouse.parent.mkdir(parents=True, exist_ok=True)
        with connected(self.warehouse, read_only=False) as con:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {self.schema}")
            con.execute(f"CREATE TABLE IF NOT EXISTS {self.table} ({columns})")

    def drop(self) -> None:
        if self.warehouse.exists():
            with connected(self.warehouse, read_only=False) as con:
                con.execute(f"DROP TABLE IF EXISTS {self.table}")

    def write(self, source: str, chunk: str, rows: list[Address], at: datetime) -> None:
        """Replace the chunk's rows: a chunk copied twice (retry, resumed job) is in the table once."""
        names = ", ".join(quote(name) for name, _ in COLUMNS)
        values = ", ".join(f"unnest(${n}::{kind}[])" for n, (_, kind) in enumerate(COLUMNS[:-1], start=1))
        lists = [
            [r.source for r in rows],
            [r.source_key for r in rows],
            [chunk] * len(rows),
            [r.user_id for r in rows],
            [r.street for r in rows],
            [r.city for r in rows],
            [r.postcode for r in rows],
            [r.country for r in rows],
            [r.changed_at for r in rows],
        ]
        with connected(self.warehouse, read_only=False) as con:
            con.execute("BEGIN TRANSACTION")
            con.execute(f"DELETE FROM {self.table} WHERE source = ? AND chunk = ?", [source, chunk])
            if rows:
                con.execute(
                    f"INSERT INTO {self.table} ({names}) SELECT {values}, ${len(COLUMNS)}::TIMESTAMPTZ",
                    [*lists, at],
                )
            con.execute("COMMIT")

    def chunk_rows(self, source: str) -> dict[str, int]:
        """Rows per chunk id of one source, as the target holds them now."""
        if not self.warehouse.exists():
            return {}
        with connected(self.warehouse, read_only=True) as con:
            if not self._exists(con):
                return {}
            sql = f"SELECT chunk, count(*) FROM {self.table} WHERE source = ? GROUP BY chunk"
            return {str(c): int(n) for c, n in con.execute(sql, [source]).fetchall()}

    def checksums(self, source: str) -> tuple[int, dict[str, str]]:
        """The validation's view: rows of `source` in the target, and each chunk's checksum over them."""
        sql = (
            "SELECT chunk, source, source_key, user_id, street, city, postcode, country, "
            f"epoch_us(changed_at) FROM {self.table} WHERE source = ?"
        )
        with connected(self.warehouse, read_only=True) as con:
            fetched = con.execute(sql, [source]).fetchall()
        by_chunk: dict[str, list[Address]] = {}
        for chunk, src, key, user, street, city, postcode, country, micros in fetched:
            moment = _EPOCH + timedelta(microseconds=micros)
            by_chunk.setdefault(chunk, []).append(
                Address(src, key, user, street, city, postcode, country, moment)
            )
        return len(fetched), {chunk: checksum(rows) for chunk, rows in by_chunk.items()}

    def _exists(self, con: duckdb.DuckDBPyConnection) -> bool:
        found = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
            [self.schema_name, self.name],
        ).fetchone()
        return bool(found and found[0])
