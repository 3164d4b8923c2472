"""Answers from the dbt manifest: when it was read is their "as of"."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core.command import Ctx

SOURCE = "the dbt manifest"


def manifest_time(ctx: Ctx) -> datetime:
    stamp = ctx.backends.manifest_stamp
    return ctx.now() if stamp is None else datetime.fromtimestamp(stamp[0] / 1e9, UTC)
