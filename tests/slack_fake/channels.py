"""The fake workspace's channels by name: what `conversations.list` lists, and the names chat.* methods
accept in place of an id (Slack resolves `#name` there, and answers with the id).

Channels exist only once a test creates them (`FakeSlack.create_channel`); a `#name` nobody created is
kept as the "channel" it was posted to, as the fake always did, so tests that never create channels
read their messages under the name they posted to.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection
from dataclasses import dataclass

from tests.slack_fake.workspace import Args, Json, SlackError, cursor_at, flag, offset_of

# conversations.list: the scope each type of conversation needs (docs.slack.dev, conversations.list).
TYPE_SCOPES = {
    "public_channel": "channels:read",
    "private_channel": "groups:read",
    "mpim": "mpim:read",
    "im": "im:read",
}
MAX_PAGE = 1000
DEFAULT_PAGE = 100


@dataclass(frozen=True)
class Channel:
    id: str
    name: str
    is_private: bool


def list_types(args: Args) -> list[str]:
    """The conversation types a conversations.list call asks for (Slack's default: public channels)."""
    return [t.strip() for t in str(args.get("types") or "public_channel").split(",") if t.strip()]


class Channels:
    def __init__(self) -> None:
        self._by_id: dict[str, Channel] = {}
        self._ids = itertools.count(1)
        self.outside: set[str] = (
            set()
        )  # channels the bot is not a member of (it may still post: chat:write.public)

    def create(self, name: str, *, private: bool = False, member: bool = True) -> str:
        if any(c.name == name for c in self._by_id.values()):
            raise ValueError(f"#{name} exists already")
        channel = Channel(f"C{next(self._ids):09d}", name, private)
        self._by_id[channel.id] = channel
        if not member:
            self.outside.add(channel.id)
        return channel.id

    def readable(self, args: Args) -> None:
        """conversations.history/.replies read only channels the bot is in."""
        if self.resolve(str(args.get("channel", ""))) in self.outside:
            raise SlackError("not_in_channel")

    def join(self, args: Args, archived: Collection[str]) -> Json:
        """conversations.join: public channels only (a private one needs an invitation)."""
        channel = self._by_id.get(self.resolve(str(args.get("channel", ""))))
        if channel is None:
            raise SlackError("channel_not_found")
        if channel.id in archived:
            raise SlackError("is_archived")
        if channel.is_private:
            raise SlackError("method_not_supported_for_channel_type")
        self.outside.discard(channel.id)
        return {"ok": True, "channel": _info(channel, archived=False)}

    def resolve(self, channel: str) -> str:
        """The id of a channel given by id, `#name` or name; anything else unchanged."""
        if channel in self._by_id:
            return channel
        name = channel.removeprefix("#")
        return next((c.id for c in self._by_id.values() if c.name == name), channel)

    def conversations_list(self, args: Args, archived: Collection[str]) -> Json:
        """One page of the channels of the asked types, `limit` at most, and the cursor of the next page
        ("" after the last one)."""
        types = list_types(args)
        if any(t not in TYPE_SCOPES for t in types):
            raise SlackError("invalid_types")
        limit = int(args.get("limit") or DEFAULT_PAGE)
        if not 0 < limit <= MAX_PAGE:
            raise SlackError("invalid_limit")
        start = offset_of(args)
        wanted = [
            c
            for c in self._by_id.values()
            if ("private_channel" if c.is_private else "public_channel") in types
            and not (c.id in archived and flag(args.get("exclude_archived")))
        ]
        page = wanted[start : start + limit]
        more = start + limit < len(wanted)
        return {
            "ok": True,
            "channels": [_info(c, archived=c.id in archived) for c in page],
            "response_metadata": {"next_cursor": cursor_at(start + limit) if more else ""},
        }


def _info(channel: Channel, *, archived: bool) -> Json:
    return {
        "id": channel.id,
        "name": channel.name,
        "is_channel": True,
        "is_group": False,
        "is_im": False,
        "is_private": channel.is_private,
        "is_archived": archived,
    }
