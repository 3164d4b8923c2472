"""How each legacy system is read in chunks, the way its own tools split it.

Cassandra by token range, MongoDB by ObjectId range, BigQuery by partition, Snowflake by id range.
Chunk ids name the range, so they are the same on every run over the same sources: that is what
lets a restarted job skip the chunks the ledger already holds. All functions here block (DuckDB):
call them in a thread.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import duckdb

from demo.migration import normalise
from demo.migration.normalise import Address
from demo.migration.sources import SourcePaths, sql_string

CHUNK_ROWS = 2_500
TOKEN_RANGES = 24  # Cassandra splits the ring evenly; the job copies one range at a time
_MIN_TOKEN, _RING = -(2**63), 2**64
_OID = """json_extract_string(json, '$._id."$oid"')"""


@dataclass(frozen=True)
class Chunk:
    source: str
    id: str  # e.g. "token:(-9223372036854775808,-8454757700450211158]"
    bounds: tuple[Any, ...]  # bound parameters of the source's range query


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description or ()]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


class SourceReader:
    """Read-only access to the four exports; one in-memory DuckDB that reads the files in place."""

    def __init__(self, files: SourcePaths) -> None:
        self.files = files
        self.con = duckdb.connect()
        self.con.execute(f"ATTACH {sql_string(files.snowflake)} AS legacy (READ_ONLY)")
        # The text exports are parsed once, not once per chunk: a CSV or JSON file has no index to
        # seek a token or ObjectId range in. Parquet and the DuckDB file are read in place.
        self.con.execute(
            "CREATE TEMP TABLE cassandra AS SELECT *, CAST(token AS BIGINT) AS token_value FROM "
            f"read_csv({sql_string(files.cassandra)}, all_varchar = true, header = true)"
        )
        self.con.execute(
            f"CREATE TEMP TABLE mongodb AS SELECT json, {_OID} AS oid "
            f"FROM read_ndjson_objects({sql_string(files.mongodb)})"
        )
        self._from = {
            "cassandra": "cassandra",
            "mongodb": "mongodb",
            "bigquery": f"read_parquet({sql_string(files.bigquery)})",
            "snowflake": 'legacy."LEGACY"."ADDR"',
        }

    def close(self) -> None:
        self.con.close()

    def count(self, source: str) -> int:
        row = self.con.execute(f"SELECT count(*) FROM {self._from[source]}").fetchone()
        return int(row[0]) if row else 0

    def plan(self, source: str) -> list[Chunk]:
        return {
            "cassandra": self._token_ranges,
            "mongodb": self._oid_ranges,
            "bigquery": self._partitions,
            "snowflake": self._id_ranges,
        }[source]()

    def _token_ranges(self) -> list[Chunk]:
        step = _RING // TOKEN_RANGES
        edges = [_MIN_TOKEN + k * step for k in range(TOKEN_RANGES)] + [2**63 - 1]
        return [Chunk("cassandra", f"token:({lo},{hi}]", (lo, hi)) for lo, hi in itertools.pairwise(edges)]

    def _oid_ranges(self) -> list[Chunk]:
        starts = self.con.execute(
            f"SELECT oid FROM (SELECT oid AS oid, row_number() OVER (ORDER BY oid) - 1 AS n "
            f"FROM {self._from['mongodb']}) WHERE n % ? = 0 ORDER BY oid",
            [CHUNK_ROWS],
        ).fetchall()
        edges = [s for (s,) in starts]
        # The last range is open: ObjectIds grow with time, and so would a live collection.
        return [
            Chunk("mongodb", f"oid:[{lo},{hi or ''})", (lo, hi or "g"))
            for lo, hi in zip(edges, [*edges[1:], None], strict=True)
        ]

    def _partitions(self) -> list[Chunk]:
        months = self.con.execute(
            f"SELECT DISTINCT strftime(partition_date, '%Y%m') AS m FROM {self._from['bigquery']} ORDER BY m"
        ).fetchall()
        return [Chunk("bigquery", f"partition:{m}", (m,)) for (m,) in months]

    def _id_ranges(self) -> list[Chunk]:
        row = self.con.execute(f'SELECT min("ID"), max("ID") FROM {self._from["snowflake"]}').fetchone()
        if row is None or row[0] is None:
            return []
        first, last = int(row[0]), int(row[1])
        return [
            Chunk("snowflake", f"ids:[{lo},{min(lo + CHUNK_ROWS - 1, last)}]", (lo, lo + CHUNK_ROWS - 1))
            for lo in range(first, last + 1, CHUNK_ROWS)
        ]

    def read(self, chunk: Chunk) -> list[Address]:
        """The chunk's records, canonical; a record that cannot be made so raises DirtyRecord."""
        where, convert = _READS[chunk.source]
        rows = _rows(self.con, f"SELECT * FROM {self._from[chunk.source]} WHERE {where}", list(chunk.bounds))
        return [convert(row) for row in rows]


def _mongo(row: Mapping[str, Any]) -> Address:
    return normalise.mongodb(json.loads(row["json"]))


_READS: dict[str, tuple[str, Callable[[Mapping[str, Any]], Address]]] = {
    "cassandra": ("token_value > ? AND token_value <= ?", normalise.cassandra),
    "mongodb": ("oid >= ? AND oid < ?", _mongo),
    "bigquery": ("strftime(partition_date, '%Y%m') = ?", normalise.bigquery),
    "snowflake": ('"ID" BETWEEN ? AND ?', normalise.snowflake),
}
