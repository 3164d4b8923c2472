"""The shape of one access rule in the configuration (`[[access]]` in the TOML file, AMD_ACCESS);
bot/core/access.py decides with them."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class AccessRule(BaseModel):
    """One RBAC rule: who may do what where. Patterns are globs, e.g. action `run:prod_*`."""

    # A misspelled key (`acton`) must not silently fall back to its default (`*`: everything).
    model_config = ConfigDict(extra="forbid")

    action: str = "*"
    users: list[str] = Field(default_factory=lambda: ["*"])  # Slack user ids or user-group ids (S…)
    channels: list[str] = Field(default_factory=lambda: ["*"])  # channel ids, or "*"
    allow: bool = True
    name: str = ""
