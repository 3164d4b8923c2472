"""Alert channels: every route's channel, and every entity's support channel a route sends to, is one
the bot can post to; entities and watched DAGs without a channel are named (their alerts go to the
fallback channel). Checked with conversations.list, as the bot itself resolves channel names."""

from __future__ import annotations

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.alerts.digest import fallback_channel
from bot.doctor.checks import Finding, fail, first_line, ok
from bot.foundation.catalog import Catalog
from bot.foundation.settings import Settings
from bot.surfaces.slack import web_client
from bot.surfaces.slack_channels import ChannelDirectory

CHECK = "alert channels"


async def check_alert_channels(settings: Settings, catalog: Catalog | None) -> Finding:
    if settings.slack_mode == "console":
        return Finding(CHECK, "skip", "not configured (console mode)")
    wanted = {r.channel: f"route {r.name}" for r in settings.alert_routes if r.channel}
    per_entity = any(r.channel is None for r in settings.alert_routes)
    entities = list(catalog.entities.values()) if catalog is not None else []
    if per_entity:
        wanted |= {e.support_channel: f"entity {e.name}" for e in entities if e.support_channel}
    fallback = fallback_channel(settings)
    if fallback:
        wanted.setdefault(fallback, "the fallback channel")
    directory = ChannelDirectory(web_client(settings))
    try:
        missing = [f"{c} ({why})" for c, why in wanted.items() if await directory.channel_id(c) is None]
    except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
        return fail(CHECK, f"cannot list channels: {first_line(exc)}", "grant channels:read and groups:read")
    if missing:
        return fail(
            CHECK,
            f"cannot post to {', '.join(missing)}: no such channel, archived, or private without the bot",
            "fix the name, unarchive it, or `/invite @amd-bot` there",
        )
    lonely = [e.name for e in entities if per_entity and not e.support_channel]
    if per_entity and settings.alert_dags:
        lonely.append(f"DAGs of AMD_ALERT_DAGS ({', '.join(settings.alert_dags)})")
    if lonely:
        where = fallback or "nowhere: set AMD_ALERT_FALLBACK_CHANNEL"
        return Finding(
            CHECK,
            "warn",
            f"{len(wanted)} channel(s) reachable; without a channel of their own: {', '.join(lonely)}",
            f"their alerts go to {where}; give them meta.support_channel or a route",
        )
    return ok(CHECK, f"all {len(wanted)} channel(s) reachable")
