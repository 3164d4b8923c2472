"""Channel names to ids. Routes and entities name channels as `#name`; chat.postMessage takes a name,
but conversations.history and .replies (finding a post made before a crash) take only an id.

The directory lists the channels the bot can see with `conversations.list` (public and private, not
archived; scopes channels:read and groups:read), keeps the list for `ttl_s`, and lists once more when a
name is missing (a channel created or renamed since); a name still missing then is not looked for again
until the list expires. Its client should sleep out 429 Retry-After (`slack.with_rate_limit_waits`):
a listing is rare, one per TTL per process, and a takeover waits for it before deciding to post.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable

from slack_sdk.web.async_client import AsyncWebClient

# Channel names are lower case (docs.slack.dev: "names may only contain lowercase letters, numbers,
# hyphens, and underscores"), so an upper-case conversation id is never mistaken for one.
CONVERSATION_ID = re.compile(r"[CGD][A-Z0-9_]+")
TTL_S = 600.0
PAGE = 1000  # the largest page conversations.list gives


class ChannelDirectory:
    def __init__(
        self, client: AsyncWebClient, *, ttl_s: float = TTL_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.client = client
        self._ttl_s = ttl_s
        self._clock = clock
        self._ids: dict[str, str] = {}  # name -> id
        self._listed_at: float | None = None
        self._missing: set[str] = set()  # names the current list lacks even after listing once more
        self._lock = asyncio.Lock()  # concurrent lookups wait for one listing

    async def channel_id(self, channel: str) -> str | None:
        """The id of `channel` given as `#name`, `name` or id (returned as it is); None when no channel
        the bot can see has that name. Raises SlackApiError when Slack refuses the list (missing_scope)."""
        if CONVERSATION_ID.fullmatch(channel):
            return channel
        name = channel.removeprefix("#")
        async with self._lock:
            if self._expired() or (name not in self._ids and name not in self._missing):
                await self._list()
                if name not in self._ids:
                    self._missing.add(name)
            return self._ids.get(name)

    def _expired(self) -> bool:
        return self._listed_at is None or self._clock() - self._listed_at >= self._ttl_s

    async def _list(self) -> None:
        listed_at = self._clock()
        ids: dict[str, str] = {}
        first = await self.client.conversations_list(
            types="public_channel,private_channel", exclude_archived=True, limit=PAGE
        )
        async for page in first:  # slack_sdk follows response_metadata.next_cursor
            for channel in page.get("channels", []):
                ids[str(channel["name"])] = str(channel["id"])
        self._ids, self._missing, self._listed_at = ids, set(), listed_at
