"""`/amd digest preview [route]` (what the next digest would say, only to you) · `/amd digest send [route]`
(post it now, access-checked as `digest.send:<route>`).

Both sweep the sources first, so what they show is current; the scheduled digests are the same
builder on the route's cron (bot/alerts/deliver.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, Field

from bot.alerts import digest as digests
from bot.alerts.deliver import recent, send_digests
from bot.alerts.views import digest_message
from bot.alerts.watch import sweep
from bot.core.command import Command, Ctx
from bot.foundation.alert_routes import AlertRoute
from bot.foundation.catalog import Catalog
from bot.foundation.errors import UsageError
from bot.foundation.suggest import unknown
from bot.render.message import Divider, Message, Part, Text, note
from bot.state.incidents import Incidents


class DigestArgs(BaseModel):
    action: Literal["preview", "send"]
    route: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")


def parse(words: Sequence[str], _catalog: Catalog) -> DigestArgs:
    if not words or len(words) > 2:
        raise UsageError("Say `preview` or `send`, and optionally a route.", suggestion="digest preview")
    if words[0] not in ("preview", "send"):
        message, guess = unknown("digest action", words[0], ["preview", "send"])
        raise UsageError(message, suggestion=f"digest {guess}" if guess else None)
    return DigestArgs(action=words[0], route=words[1] if len(words) > 1 else None)


def _route(args: DigestArgs, ctx: Ctx) -> AlertRoute:
    routes = ctx.backends.settings.alert_routes
    route = digests.route_named(routes, args.route)
    if route is None:
        message, guess = unknown("route", args.route or "", [r.name for r in routes])
        raise UsageError(message, suggestion=f"digest {args.action} {guess}" if guess else None)
    return route


async def handle(args: DigestArgs, ctx: Ctx) -> Message:
    route = _route(args, ctx)
    now = ctx.now()
    swept = await sweep(ctx.backends, now=now)
    if args.action == "send":
        sent = await send_digests(
            ctx.backends, ctx.surface, now=now, unreadable=swept.unreadable, route_name=route.name, force=True
        )
        return note(f"Digest sent: {', '.join(sent)}." if sent else f"Route `{route.name}`: nothing to say.")
    store = Incidents(ctx.backends.state.engine)
    incidents = await recent(ctx.backends, now=now)
    parts: list[Part] = []
    fallback = digests.fallback_channel(ctx.backends.settings)
    for channel in digests.channels(route, incidents, fallback):
        since = await store.mark(f"digest:{route.name}:{channel}")
        built = digests.build(
            route,
            channel,
            incidents,
            ctx.catalog,
            since=since,
            now=now,
            unreadable=swept.unreadable,
            fallback=fallback,
        )
        if not built.quiet:
            parts += [*digest_message(built, ctx.catalog)[0].parts, Divider()]
    if not parts:
        unread = "; ".join(f"could not read the {s}: {why}" for s, why in swept.unreadable.items())
        said = f"Route `{route.name}`: nothing to say" + (f", but {unread}." if unread else " (all green).")
        return note(said)
    return Message(
        (Text(f"_Preview of route `{route.name}`: only you see this._"), *parts[:-1]),
        fallback="Digest preview",
    )


command = Command(
    name="digest",
    summary="Preview or send a route's failure digest: open, new and recovered, grouped by root cause.",
    usage="digest preview|send [ROUTE]",
    examples=("digest preview", "digest send", "digest preview payments"),
    parse=parse,
    handle=handle,
    permission=lambda args: f"digest{'.send' if args.action == 'send' else ''}:{args.route or '*'}",
    ack=lambda args: "Reading runs, tests, freshness and migrations…",
    details="Routes are configuration (AMD_ALERT_ROUTES); without a route name, the first one. "
    "Access: `digest:<route>` to preview, `digest.send:<route>` to post.",
)
