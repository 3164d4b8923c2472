"""Four legacy exports of one delivery address history, generated from a seed.

`truth()` is the history as it really happened (already canonical); `ensure_sources()` writes it as
four systems exported it, each with its own dirt: a cqlsh CSV dump (Cassandra 2.1), mongoexport
JSON lines (MongoDB), a Parquet export (BigQuery) and a table in a DuckDB file standing in for the
old Snowflake schema. Every random choice comes from a hash of (seed, row), so a seed always gives
the same bytes, and the migration's expected result is known exactly.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import struct
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from demo.migration.normalise import Address

SEED = 20_261_126
VERSION = "1"  # bump when the generated data changes
# Rows per source; the eras overlap, as they did while systems were replaced one by one.
SIZES = {"cassandra": 70_000, "mongodb": 55_000, "bigquery": 45_000, "snowflake": 30_000}
ERAS = {
    "snowflake": (datetime(2012, 1, 1, tzinfo=UTC), datetime(2017, 1, 1, tzinfo=UTC)),
    "cassandra": (datetime(2015, 6, 1, tzinfo=UTC), datetime(2020, 6, 1, tzinfo=UTC)),
    "mongodb": (datetime(2018, 1, 1, tzinfo=UTC), datetime(2022, 7, 1, tzinfo=UTC)),
    "bigquery": (datetime(2021, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC)),
}
_PLACES = (
    ("DE", "Berlin", "1"), ("DE", "Hamburg", "2"), ("DE", "Munich", "8"), ("DE", "Dresden", "01"),
    ("DE", "Leipzig", "04"), ("AT", "Vienna", "1"), ("CH", "Zurich", "8"), ("NL", "Amsterdam", "10"),
    ("PL", "Warsaw", "0"), ("GB", "London", ""),
)  # fmt: skip
_STREETS = ("Hauptstrasse", "Bahnhofstrasse", "Gartenweg", "Lindenallee", "Marktplatz", "Schulstrasse")
_ENGLISH = {"DE": "Germany", "AT": "Austria", "CH": "Switzerland", "NL": "Netherlands", "PL": "Poland",
            "GB": "United Kingdom"}  # fmt: skip
_NATIVE = {"DE": "Deutschland", "AT": "Österreich", "CH": "Schweiz", "NL": "Nederland", "PL": "Polska",
           "GB": "United Kingdom"}  # fmt: skip
_ISO3 = {"DE": "DEU", "AT": "AUT", "CH": "CHE", "NL": "NLD", "PL": "POL", "GB": "GBR"}
_PLATE = {"DE": "D", "AT": "A", "CH": "CH", "NL": "NL", "PL": "PL", "GB": "GB"}
_LETTERS = "ABDEFGHJLNPRSTUWXYZ"
_SIXTEEN_WORDS = struct.Struct(">16I")  # one 64-byte hash gives every random choice a row needs
_BERLIN = ZoneInfo("Europe/Berlin")  # the old Snowflake account ran in the head office's zone


@dataclass(frozen=True)
class SourcePaths:
    cassandra: Path  # CSV
    mongodb: Path  # JSON lines
    bigquery: Path  # Parquet
    snowflake: Path  # DuckDB file, table "LEGACY"."ADDR"


def paths(directory: Path) -> SourcePaths:
    return SourcePaths(
        directory / "cassandra_addresses.csv",
        directory / "mongodb_addresses.jsonl",
        directory / "bigquery_addresses.parquet",
        directory / "snowflake_legacy.duckdb",
    )


def sql_string(path: Path) -> str:
    """A file name as a SQL literal, for the statements where DuckDB takes no parameter (COPY, ATTACH)."""
    return "'" + str(path).replace("'", "''") + "'"


def _uniforms(seed: int, source: str, i: int) -> list[float]:
    digest = hashlib.blake2b(f"{seed}:{source}:{i}".encode(), digest_size=64).digest()
    return [n / 2**32 for n in _SIXTEEN_WORDS.unpack(digest)]


def _postcode(code: str, prefix: str, u: float, v: float) -> str:
    if code == "DE":
        return prefix + str(int(u * 10 ** (5 - len(prefix)))).zfill(5 - len(prefix))
    if code in ("AT", "CH"):
        return prefix + f"{int(u * 1000):03d}"
    if code == "NL":
        return f"{prefix}{int(u * 100):02d} {_LETTERS[int(v * 19)]}{_LETTERS[int(u * 7919) % 19]}"
    if code == "PL":
        return f"{prefix}{int(u * 10)}-{int(v * 1000):03d}"
    outward = ("SW1A", "EC1A", "W1D", "N1", "E2", "SE1")[int(u * 6)]
    return f"{outward} {int(v * 10)}{_LETTERS[int(u * 7919) % 19]}{_LETTERS[int(v * 104729) % 19]}"


def truth(seed: int = SEED, sizes: dict[str, int] | None = None) -> dict[str, list[Address]]:
    """The history as it happened, per source, in canonical form."""
    history: dict[str, list[Address]] = {}
    for source, size in (sizes or SIZES).items():
        start, end = ERAS[source]
        span = int((end - start).total_seconds())
        rows = []
        for i in range(size):
            u = _uniforms(seed, source, i)
            code, city, prefix = _PLACES[int(u[1] * len(_PLACES))]
            millis = 0 if source == "snowflake" else int(u[7] * 1000)  # Snowflake kept seconds only
            changed = start + timedelta(seconds=int(u[6] * span), milliseconds=millis)
            key = {
                "cassandra": str(
                    uuid.UUID(bytes=hashlib.md5(f"{seed}:{i}".encode(), usedforsecurity=False).digest())
                ),
                "mongodb": f"{int(changed.timestamp()):08x}{int(u[12] * 2**32):08x}{i:08x}",
                "bigquery": f"evt_{int(u[12] * 2**32):08x}{i:06x}",
                "snowflake": str(i + 1),
            }[source]
            street = f"{_STREETS[int(u[2] * len(_STREETS))]} {1 + int(u[3] * 150)}"
            postcode = _postcode(code, prefix, u[4], u[5])
            rows.append(Address(source, key, 1 + int(u[0] * 60_000), street, city, postcode, code, changed))
        history[source] = rows
    return history


def token(user_id: int) -> int:
    """The partition key's token, like Cassandra's Murmur3 partitioner: a signed 64-bit integer."""
    value = int.from_bytes(hashlib.blake2b(str(user_id).encode(), digest_size=8).digest(), "big", signed=True)
    return max(value, -(2**63) + 1)  # the minimum token belongs to no range


def _pad(value: str, u: float) -> str:
    return f"  {value} " if u < 0.15 else value


def _write_cassandra(rows: list[Address], seed: int, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(
            ["token", "user_id", "changed_at", "address_id", "street", "city", "postcode", "country"]
        )
        for i, row in enumerate(rows):
            u = _uniforms(seed, "dirt", i)
            country = (
                row.country if u[0] < 0.6 else row.country.lower() if u[0] < 0.8 else _ENGLISH[row.country]
            )
            postcode = row.postcode
            if (row.country == "DE" and u[1] < 0.4) or (row.country in ("NL", "GB") and u[1] < 0.5):
                postcode = postcode.lstrip("0") if row.country == "DE" else postcode.replace(" ", "")
            stamp = row.changed_at.strftime("%Y-%m-%d %H:%M:%S.%f") + "+0000"
            writer.writerow(
                [token(row.user_id), row.user_id, stamp, row.source_key, _pad(row.street, u[2]),
                 _pad(row.city, u[3]), postcode, country]
            )  # fmt: skip


def _write_mongodb(rows: list[Address], seed: int, path: Path) -> None:
    with path.open("w", encoding="utf-8") as out:
        for i, row in enumerate(rows):
            u = _uniforms(seed, "dirt", i)
            country = (
                row.country if u[0] < 0.5 else _ISO3[row.country] if u[0] < 0.8 else _NATIVE[row.country]
            )
            zip_code = row.postcode
            if row.country == "PL" and u[1] < 0.4:
                zip_code = zip_code.replace("-", "")
            elif row.country == "NL" and u[1] < 0.3:
                zip_code = zip_code.lower()
            elif u[1] < 0.1:
                zip_code = f"{_PLATE[row.country]}-{zip_code}"
            millis = int(row.changed_at.timestamp() * 1000)
            iso = row.changed_at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{row.changed_at.microsecond // 1000:03d}Z"
            doc: dict[str, Any] = {
                "_id": {"$oid": row.source_key},
                "userId": {"$numberLong": str(row.user_id)} if u[2] < 0.5 else row.user_id,
                "address": {
                    "street": row.street,
                    "zip": zip_code,
                    "city": _pad(row.city, u[3]),
                    "country": country,
                },
                "changedAt": {"$date": iso} if u[4] < 0.6 else {"$date": {"$numberLong": str(millis)}},
            }
            out.write(json.dumps(doc, ensure_ascii=False) + "\n")


def _write_bigquery(rows: list[Address], seed: int, path: Path) -> None:
    columns = {
        "event_id": [r.source_key for r in rows],
        "user_id": [r.user_id for r in rows],
        "street": [r.street for r in rows],
        "city": [r.city for r in rows],
        "postal_code": [r.postcode.replace(" ", "") if r.country == "GB" else r.postcode for r in rows],
        "country_code": [_ISO3[r.country] for r in rows],
        "changed_at": [r.changed_at for r in rows],
    }
    with duckdb.connect() as con:
        select = ", ".join(f"unnest(${n}) AS {name}" for n, name in enumerate(columns, start=1))
        con.execute(f"CREATE TABLE export AS SELECT {select}", list(columns.values()))
        con.execute("ALTER TABLE export ADD COLUMN partition_date DATE")
        con.execute("UPDATE export SET partition_date = CAST(timezone('UTC', changed_at) AS DATE)")
        con.execute(f"COPY export TO {sql_string(path)} (FORMAT parquet)")


def _write_snowflake(rows: list[Address], seed: int, path: Path) -> None:
    def zip_code(i: int, row: Address) -> str:
        u = _uniforms(seed, "dirt", i)
        if row.country in ("NL", "PL") and u[5] < 0.5:
            return row.postcode.replace(" ", "").replace("-", "")
        return f"{_PLATE[row.country]}-{row.postcode}" if u[5] < 0.7 else row.postcode

    local = [r.changed_at.astimezone(_BERLIN) for r in rows]
    columns = {
        "ID": [int(r.source_key) for r in rows],
        "USER_ID": [r.user_id for r in rows],
        "STREET": [r.street for r in rows],
        "CITY": [r.city for r in rows],
        "ZIP": [zip_code(i, r) for i, r in enumerate(rows)],
        "COUNTRY": [_ENGLISH[r.country].upper() for r in rows],
        "CHANGED_AT": [t.strftime("%Y-%m-%d %H:%M:%S.000 %z") for t in local],
    }
    with duckdb.connect(str(path)) as con:
        con.execute('CREATE SCHEMA "LEGACY"')
        select = ", ".join(f'unnest(${n}) AS "{name}"' for n, name in enumerate(columns, start=1))
        con.execute(f'CREATE TABLE "LEGACY"."ADDR" AS SELECT {select}', list(columns.values()))


def ensure_sources(directory: Path, seed: int = SEED, sizes: dict[str, int] | None = None) -> SourcePaths:
    """Write the four exports once; later calls with the same seed and sizes reuse them."""
    marker = directory / "sources.json"
    wanted = {"version": VERSION, "seed": seed, "sizes": sizes or SIZES}
    if marker.exists() and json.loads(marker.read_text()) == wanted:
        return paths(directory)
    # Written aside and moved into place, so a crash never leaves a half export to be migrated.
    scratch = directory.with_name(directory.name + ".building")
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    history, target = truth(seed, sizes), paths(scratch)
    _write_cassandra(history["cassandra"], seed, target.cassandra)
    _write_mongodb(history["mongodb"], seed, target.mongodb)
    _write_bigquery(history["bigquery"], seed, target.bigquery)
    _write_snowflake(history["snowflake"], seed, target.snowflake)
    (scratch / "sources.json").write_text(json.dumps(wanted))
    shutil.rmtree(directory, ignore_errors=True)
    os.replace(scratch, directory)
    return paths(directory)
