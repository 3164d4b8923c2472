"""`/amd stats [entity]`: rows, last load and freshness against SLA, from the warehouse.

All entities cost one warehouse query (shared and cached by bot.core.stats.StatsService); one entity
adds its 30-day daily volume and a chart.
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
from bot.render.message import Context, Fields, Header, Image, Message, Table, Text

CHART_DAYS = 30


class StatsArgs(BaseModel):
    entity: str | None = None  # a catalog entity name, resolved from what the user typed


def parse(words: Sequence[str], catalog: Catalog) -> StatsArgs:
    if len(words) > 1:
        raise UsageError("`stats` takes at most one entity.")
    return StatsArgs(entity=catalog.entity(words[0]).name if words else None)


def _freshness(status: EntityStatus) -> str:
    return fmt.check(status.fresh)


def view_all(statuses: Sequence[EntityStatus], catalog: Catalog) -> Message:
    rows = tuple(
        (
            s.entity.name,
            fmt.count(s.rows),
            fmt.when(s.last_loaded_at),
            fmt.age(s.age),
            fmt.hours(s.entity.freshness_sla_hours),
            {True: "ok", False: "STALE", None: "—"}[s.fresh],
            s.entity.owner or "—",
        )
        for s in statuses
    )
    stale = [s.entity.name for s in statuses if s.fresh is False]
    summary = (
        f":x: Stale: {', '.join(f'`{n}`' for n in stale)}"
        if stale
        else ":white_check_mark: Every entity is fresh."
    )
    as_of = statuses[0].as_of if statuses else None
    return Message(
        (
            Header("AMD entities"),
            Table(("entity", "rows", "last load", "age", "SLA", "fresh", "owner"), rows, frozenset({1})),
            Text(summary),
            Context(
                (
                    f"as of {fmt.when(as_of)} · fresh = each entity's newest row within its SLA "
                    "(dbt's sources: `/amd test --freshness`) · `/amd stats <entity>` for details",
                )
            ),
        ),
        fallback=f"AMD entities: {len(stale)} stale" if stale else "AMD entities: all fresh",
        public=True,
    )


def view_one(status: EntityStatus, volumes: Sequence[DailyVolume], chart: Image, catalog: Catalog) -> Message:
    entity = status.entity
    total = sum(v.rows for v in volumes)
    verdict = {True: "fresh", False: "*STALE*", None: "no SLA"}[status.fresh]
    return Message(
        (
            Header(f"{entity.name}"),
            Text(entity.description or "_No description in dbt._"),
            Fields(
                (
                    ("Rows", fmt.count(status.rows)),
                    ("Last load", f"{fmt.when(status.last_loaded_at)} ({fmt.age(status.age)} ago)"),
                    (
                        "Freshness",
                        f"{_freshness(status)} {verdict} · SLA {fmt.hours(entity.freshness_sla_hours)}",
                    ),
                    ("Owner", catalog.owner_mention(entity.owner)),
                    ("Support channel", entity.support_channel or "—"),
                    ("Columns", str(len(entity.columns))),
                    (f"Loaded in {len(volumes)} days", fmt.count(total)),
                    ("Built by", f"`{entity.dag}`" if entity.dag else "—"),
                )
            ),
            chart,
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
    volumes = await ctx.backends.warehouse.daily_volume(status.entity.stats_query, CHART_DAYS)
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
