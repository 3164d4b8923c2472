"""History migrations as the settings declare them: names people type in Slack, sources, owner, alerts."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

SourceKind = Literal["cassandra", "mongodb", "bigquery", "snowflake", "file"]
_NAME = r"^[a-z][a-z0-9_]{0,63}$"  # typed in Slack and used in URLs: keep it plain


class SourceSpec(BaseModel):
    # A misspelled key (`acton`) must not silently fall back to its default (`*`: everything).
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=_NAME)
    kind: SourceKind
    description: str = ""  # where it lives, e.g. "Cassandra 2.1 keyspace addr, table history"
    # Known total, or None: the copy job counts its source and reports it (PUT …/expected).
    expected_rows: int | None = Field(None, ge=0)


class MigrationSpec(BaseModel):
    # A misspelled key (`acton`) must not silently fall back to its default (`*`: everything).
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=_NAME)
    title: str = ""
    target: str  # the table the sources are copied into, e.g. "amd.delivery_address_history"
    sources: list[SourceSpec] = Field(min_length=1)
    owner: str | None = None  # Slack user/group id, or an owner handle from `owners`
    channel: str | None = None  # Slack channel id for stall alerts; None: no alerts
    stall_after_s: float = Field(900.0, gt=0)  # no report for longer than this: stalled
    rate_window_s: float = Field(300.0, gt=0)

    @model_validator(mode="after")
    def _unique_sources(self) -> Self:
        names = [s.name for s in self.sources]
        if len(names) != len(set(names)):
            raise ValueError(f"migration {self.name}: source names repeat")
        return self

    def source(self, name: str) -> SourceSpec | None:
        return next((s for s in self.sources if s.name == name), None)


def default_migrations() -> list[MigrationSpec]:
    """The embedded default: the demo's delivery address history (demo/migration/)."""
    sources = [
        SourceSpec(name="cassandra", kind="cassandra", description="Cassandra 2.1 export (CSV)"),
        SourceSpec(name="mongodb", kind="mongodb", description="on-prem MongoDB export (JSON lines)"),
        SourceSpec(name="bigquery", kind="bigquery", description="BigQuery export (Parquet)"),
        SourceSpec(name="snowflake", kind="snowflake", description="old Snowflake schema LEGACY.ADDR"),
    ]
    return [
        MigrationSpec(
            name="delivery_address_history",
            title="Delivery address history",
            target="amd.delivery_address_history",
            sources=sources,
            owner="data-platform",
            stall_after_s=120,
            rate_window_s=60,
        )
    ]
