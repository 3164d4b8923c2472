"""One delivery address change, the way each legacy system wrote it, made canonical.

Pure functions, no I/O: each source's raw record becomes the same `Address` row (ISO-3166 alpha-2
country, the country's postcode format, UTC timestamps, trimmed text), so the four histories can
sit in one table and be compared.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

COUNTRIES: Mapping[str, str] = {
    **{code: code for code in ("DE", "AT", "CH", "NL", "PL", "GB")},
    **{"DEU": "DE", "GERMANY": "DE", "DEUTSCHLAND": "DE"},
    **{"AUT": "AT", "AUSTRIA": "AT", "ÖSTERREICH": "AT", "OESTERREICH": "AT"},
    **{"CHE": "CH", "SWITZERLAND": "CH", "SCHWEIZ": "CH", "SUISSE": "CH"},
    **{"NLD": "NL", "NETHERLANDS": "NL", "THE NETHERLANDS": "NL", "NEDERLAND": "NL", "HOLLAND": "NL"},
    **{"POL": "PL", "POLAND": "PL", "POLSKA": "PL"},
    **{"GBR": "GB", "UK": "GB", "UNITED KINGDOM": "GB", "GREAT BRITAIN": "GB"},
}
# Old exports prefix postcodes with the country's licence-plate letters: "D-01067", "NL-1011 AB".
_PREFIX = re.compile(r"^(?:D|A|CH|NL|PL|GB)-")
_DIGITS = {"DE": 5, "AT": 4, "CH": 4}
# Snowflake renders TIMESTAMP_TZ as `2019-03-04 13:13:14.000 +0100`; ISO 8601 wants no space there.
_SPACED_OFFSET = re.compile(r"\s+([+-]\d{2}:?\d{2})$")


class DirtyRecord(ValueError):
    """A source record that cannot be made canonical; the chunk holding it fails."""


@dataclass(frozen=True)
class Address:
    source: str
    source_key: str  # the record's id in its source system
    user_id: int
    street: str
    city: str
    postcode: str
    country: str
    changed_at: datetime  # aware, UTC

    def canonical(self) -> str:
        """One line per row, identical for the row as copied and as read back from the target."""
        when = self.changed_at.astimezone(UTC).isoformat(timespec="microseconds")
        fields = (
            self.source_key,
            str(self.user_id),
            self.street,
            self.city,
            self.postcode,
            self.country,
            when,
        )
        return "\x1f".join(fields)


def checksum(rows: Iterable[Address]) -> str:
    """Order-independent: the sum of the rows' hashes mod 2^64 (a sum, unlike XOR, sees a doubled row)."""
    total = 0
    for row in rows:
        total += int.from_bytes(hashlib.blake2b(row.canonical().encode(), digest_size=8).digest(), "big")
    return f"{total % 2**64:016x}"


def text(value: Any, what: str) -> str:
    cleaned = " ".join(str(value or "").split())
    if not cleaned:
        raise DirtyRecord(f"{what} is empty")
    return cleaned


def country(value: Any) -> str:
    key = text(value, "country").upper()
    try:
        return COUNTRIES[key]
    except KeyError:
        raise DirtyRecord(f"unknown country {key!r}") from None


def postcode(value: Any, country_code: str) -> str:
    raw = _PREFIX.sub("", text(value, "postcode").upper())
    compact = raw.replace(" ", "").replace("-", "")
    if country_code in _DIGITS:
        # Numeric columns and spreadsheets drop leading zeros: Dresden's 01067 arrives as 1067.
        if not compact.isdigit() or len(compact) > _DIGITS[country_code]:
            raise DirtyRecord(f"bad {country_code} postcode {raw!r}")
        return compact.zfill(_DIGITS[country_code])
    if country_code == "NL" and re.fullmatch(r"\d{4}[A-Z]{2}", compact):
        return f"{compact[:4]} {compact[4:]}"
    if country_code == "PL" and re.fullmatch(r"\d{5}", compact):
        return f"{compact[:2]}-{compact[2:]}"
    if country_code == "GB" and re.fullmatch(r"[A-Z0-9]{2,4}\d[A-Z]{2}", compact):
        return f"{compact[:-3]} {compact[-3:]}"
    raise DirtyRecord(f"bad {country_code} postcode {raw!r}")


def timestamp(value: Any) -> datetime:
    """Aware UTC from a datetime, epoch milliseconds, or text with an offset (`+0000`, `+01:00`, `Z`).
    Text without an offset is refused: guessing a zone would shift the history silently."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, int):
        moment = datetime.fromtimestamp(value / 1000, UTC)
    else:
        raw = _SPACED_OFFSET.sub(r"\1", text(value, "timestamp").replace("Z", "+00:00"))
        try:
            moment = datetime.fromisoformat(raw)
        except ValueError:
            raise DirtyRecord(f"unreadable timestamp {raw!r}") from None
    if moment.tzinfo is None:
        raise DirtyRecord(f"timestamp {value!r} has no time zone")
    return moment.astimezone(UTC)


def cassandra(row: Mapping[str, str]) -> Address:
    """cqlsh COPY TO: every value text; timestamps like `2018-03-04 12:13:14.123000+0000`."""
    code = country(row["country"])
    return Address(
        "cassandra",
        text(row["address_id"], "address_id"),
        int(row["user_id"]),
        text(row["street"], "street"),
        text(row["city"], "city"),
        postcode(row["postcode"], code),
        code,
        timestamp(row["changed_at"]),
    )


def _mongo_value(value: Any) -> Any:
    """MongoDB extended JSON: {"$numberLong": "…"}, {"$date": "…" | {"$numberLong": "…"}}."""
    if isinstance(value, dict):
        if "$numberLong" in value:
            return int(value["$numberLong"])
        if "$date" in value:
            return _mongo_value(value["$date"])
    return value


def mongodb(doc: Mapping[str, Any]) -> Address:
    address = doc["address"]
    code = country(address["country"])
    return Address(
        "mongodb",
        text(doc["_id"]["$oid"], "_id"),
        int(_mongo_value(doc["userId"])),
        text(address["street"], "street"),
        text(address["city"], "city"),
        postcode(address["zip"], code),
        code,
        timestamp(_mongo_value(doc["changedAt"])),
    )


def bigquery(row: Mapping[str, Any]) -> Address:
    code = country(row["country_code"])
    return Address(
        "bigquery",
        text(row["event_id"], "event_id"),
        int(row["user_id"]),
        text(row["street"], "street"),
        text(row["city"], "city"),
        postcode(row["postal_code"], code),
        code,
        timestamp(row["changed_at"]),
    )


def snowflake(row: Mapping[str, Any]) -> Address:
    """The old schema: upper-case columns, country names, TIMESTAMP_TZ rendered as text."""
    code = country(row["COUNTRY"])
    return Address(
        "snowflake",
        str(row["ID"]),
        int(row["USER_ID"]),
        text(row["STREET"], "STREET"),
        text(row["CITY"], "CITY"),
        postcode(row["ZIP"], code),
        code,
        timestamp(row["CHANGED_AT"]),
    )
