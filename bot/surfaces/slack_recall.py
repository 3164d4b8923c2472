"""Finding a scheduled post made before a crash, by the claim key in its message metadata.

Every page of the channel's history since the claim (and of the thread's replies for a thread line)
is read: a busy channel has more than one page within a lease. A public channel the bot posts to
without being in it (chat:write.public) cannot be read: the bot joins it once (conversations.join,
scope channels:join) and reads again. A channel that still cannot be read answers None, so the
caller posts: twice rather than never.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.foundation.ports import CardRef
from bot.surfaces.slack_channels import ChannelDirectory

log = logging.getLogger(__name__)
PAGE = 200


async def find_posted(
    client: AsyncWebClient,
    channels: ChannelDirectory,
    channel: str,
    key: str,
    *,
    since: datetime,
    thread: CardRef | None,
) -> CardRef | None:
    try:
        where = await channels.channel_id(channel)
        if where is None:
            log.warning(
                "cannot look for post %s: no channel named %s among those the bot can see "
                "(conversations.list; a private channel must have the bot in it): posting it",
                key,
                channel,
            )
            return None
        try:
            return await _search(client, where, key, since=since, thread=thread)
        except SlackApiError as exc:
            if exc.response.get("error") != "not_in_channel":
                raise
            await client.conversations_join(channel=where)
            return await _search(client, where, key, since=since, thread=thread)
    except SlackApiError as exc:
        needed = exc.response.get("needed")
        log.warning(
            "cannot look for post %s in %s (%s%s): posting it",
            key,
            channel,
            exc.response.get("error"),
            f", needs scope {needed}" if needed else "",
        )
        return None


async def _search(
    client: AsyncWebClient, where: str, key: str, *, since: datetime, thread: CardRef | None
) -> CardRef | None:
    oldest = f"{since.timestamp():.6f}"
    if thread is None:
        first = await client.conversations_history(
            channel=where, oldest=oldest, include_all_metadata=True, limit=PAGE
        )
    else:
        first = await client.conversations_replies(
            channel=where, ts=thread.ts, oldest=oldest, include_all_metadata=True, limit=PAGE
        )
    async for page in first:  # slack_sdk follows response_metadata.next_cursor
        messages: list[dict[str, Any]] = page.get("messages", [])
        for posted in messages:
            if (posted.get("metadata") or {}).get("event_payload", {}).get("key") == key:
                return CardRef(where, str(posted["ts"]))
    return None
