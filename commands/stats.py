"""`/amd stats [entity]`: rows, last load and freshness against SLA, from the warehouse.

All entities cost one warehouse query (shared and cached by bot.core.stats.StatsService); one entity
adds its 30-day daily volume and a chart when it has a load column to count by day. A last load that
is not known is said to be unknown, with the reason: never guessed as fresh, never called stale.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from pydantic import BaseModel

from bot.core.command import Command, Ctx
from bot.core.stats import EntityStatus
from bot.foundation.catalog import Catalog
from bot.foundation.errors import UsageError
from bot.foundation.ports import DailyVolume
from bot.render import format as fmt
from bot.render.charts import volume_chart
from bot.render.message import Context, Fields, Header, Image, Message, Part, Table, Text

CHART_DAYS = 30


class StatsArgs(BaseModel):
    entity: str | None = None  # a catalog entity name, resolved from what the user typed


def parse(words: Sequence[str], catalog: Catalog) -> StatsArgs:
    if len(words) > 1:
        raise UsageError("`stats` takes at most one entity.")
    return StatsArgs(entity=catalog.entity(words[0]).name if words else None)


NO_ENTITIES = (
    "No model of the dbt project is selected as an entity. Set `AMD_ENTITIES` to a dbt selector (e.g. "
    "`tag:amd`, `path:models/marts` or `config.meta.entity:true`), or give models `meta: {entity: true}`."
)
_SOURCE_NOTE = {"load column": "", "last build": " (build)", "last altered": " (altered)", None: ""}


def _verdict(status: EntityStatus) -> str:
    if status.fresh is not None:
        return "ok" if status.fresh else "STALE"
    return "unknown" if status.last_loaded_at is None else "—"


def _age(status: EntityStatus) -> str:
    return "unknown" if status.age is None else fmt.age(status.age)


def _names(statuses: Sequence[EntityStatus], shown: int = 10) -> str:
    # A project has hundreds of models: name a few, count the rest.
    names = ", ".join(f"`{s.entity.name}`" for s in statuses[:shown])
    return names + (f" and {len(statuses) - shown} more" if len(statuses) > shown else "")


def summary(statuses: Sequence[EntityStatus]) -> tuple[str, str]:
    """The verdict line and its fallback. "Every entity is fresh" only when each one is, by its SLA."""
    stale = [s for s in statuses if s.fresh is False]
    unknown = [s for s in statuses if s.last_loaded_at is None]
    no_sla = [s for s in statuses if s.last_loaded_at is not None and s.fresh is None]
    lines = [f":x: Stale: {_names(stale)}"] if stale else []
    if unknown:
        reasons = sorted({s.unknown_reason or "" for s in unknown})
        lines.append(f":grey_question: Last load unknown for {_names(unknown)}: {'; '.join(reasons)}.")
    if no_sla:
        lines.append(f"No SLA (`meta.freshness_sla_hours`) to judge {_names(no_sla)} by.")
    if not lines:
        return ":white_check_mark: Every entity is fresh.", "AMD entities: all fresh"
    if not stale and any(s.fresh for s in statuses):
        lines.insert(0, ":white_check_mark: Nothing is stale by its SLA.")
    parts = (f"{len(stale)} stale", f"{len(unknown)} unknown", f"{len(no_sla)} without SLA")
    return "\n".join(lines), "AMD entities: " + ", ".join(p for p in parts if not p.startswith("0 "))


def view_all(statuses: Sequence[EntityStatus], catalog: Catalog) -> Message:
    if not statuses:
        return Message((Header("AMD entities"), Text(NO_ENTITIES)), fallback=NO_ENTITIES, public=True)
    rows = tuple(
        (
            s.entity.name,
            fmt.count(s.rows),
            fmt.when(s.last_loaded_at) + _SOURCE_NOTE[s.source],
            _age(s),
            fmt.hours(s.entity.freshness_sla_hours),
            _verdict(s),
            s.entity.owner or "—",
        )
        for s in statuses
    )
    verdict, fallback = summary(statuses)
    return Message(
        (
            Header("AMD entities"),
            Table(("entity", "rows", "last load", "age", "SLA", "fresh", "owner"), rows, frozenset({1})),
            Text(verdict),
            Context(
                (
                    f"as of {fmt.when(statuses[0].as_of)} · fresh = each entity's last load within its SLA "
                    "(dbt's sources: `/amd test --freshness`) · `/amd stats <entity>` for details",
                )
            ),
        ),
        fallback=fallback,
        public=True,
    )


def last_load(status: EntityStatus) -> str:
    if status.last_loaded_at is None:
        return f"unknown: {status.unknown_reason}"
    source = "" if status.source == "load column" else f", {status.source}"
    return f"{fmt.when(status.last_loaded_at)} ({fmt.age(status.age)} ago{source})"


def view_one(
    status: EntityStatus, volumes: Sequence[DailyVolume] | None, chart: Image | None, catalog: Catalog
) -> Message:
    """`volumes` and `chart` are None for an entity without a load column: nothing to count by day."""
    entity = status.entity
    verdict = {"ok": "fresh", "STALE": "*STALE*", "—": "no SLA", "unknown": "unknown"}[_verdict(status)]
    fields = [
        ("Rows", fmt.count(status.rows)),
        ("Last load", last_load(status)),
        ("Freshness", f"{fmt.check(status.fresh)} {verdict} · SLA {fmt.hours(entity.freshness_sla_hours)}"),
        ("Owner", catalog.owner_mention(entity.owner)),
        ("Support channel", entity.support_channel or "—"),
        ("Columns", f"{len(entity.columns)} documented" if entity.columns else "none documented in dbt"),
    ]
    if volumes is not None:
        fields.append((f"Loaded in {len(volumes)} days", fmt.count(sum(v.rows for v in volumes))))
    fields.append(("Built by", f"`{entity.dag}`" if entity.dag else "—"))
    volume: Part = chart or Context(
        ("No daily volume chart: the model has no load column to count by day (`meta.loaded_at_field`).",)
    )
    return Message(
        (
            Header(f"{entity.name}"),
            Text(entity.description or "_No description in dbt._"),
            Fields(tuple(fields)),
            volume,
            Context((f"as of {fmt.when(status.as_of)} · `{entity.relation.schema}.{entity.relation.name}`",)),
        ),
        fallback=f"{entity.name}: {fmt.count(status.rows)} rows, {verdict}",
        public=True,
    )


async def handle(args: StatsArgs, ctx: Ctx) -> Message:
    catalog = ctx.catalog
    statuses = await ctx.backends.stats.status(list(catalog.entities.values()))
    if args.entity is None:
        return view_all(statuses, catalog)
    status = next(s for s in statuses if s.entity.name == args.entity)
    if status.entity.load_column is None:
        return view_one(status, None, None, catalog)
    volumes = await ctx.backends.stats.daily_volume(status.entity, CHART_DAYS)
    charts_dir = ctx.backends.settings.charts_dir
    path = await asyncio.to_thread(volume_chart, args.entity, volumes, charts_dir)
    chart = Image(path, f"{args.entity}: rows loaded per day, last {CHART_DAYS} days", "daily row volume")
    return view_one(status, volumes, chart, catalog)


command = Command(
    name="stats",
    summary="Rows, last load and freshness against SLA for AMD entities.",
    usage="stats [entity]",
    examples=("stats", "stats payment", "stats delivery_address"),
    parse=parse,
    handle=handle,
    permission=lambda args: f"stats:{args.entity or '*'}",
    ack=lambda args: f"Reading {args.entity or 'all entities'} from the warehouse…",
    details="Without an entity: every entity in one table. With one: details, owner, 30-day volume chart.",
)
