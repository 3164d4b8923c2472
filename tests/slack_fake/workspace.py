"""The state behind the fake Web API and the methods that change it: messages, uploads, response URLs,
trigger ids. No HTTP here; `web_api.FakeSlack` authenticates, limits and records, then calls in.

Each method takes the request's arguments and returns Slack's JSON answer or raises `SlackError`.
"""

from __future__ import annotations

import base64
import binascii
import copy
import itertools
import mimetypes
import re
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tests.slack_fake.blocks import validate_blocks, validate_view
from tests.slack_fake.identity import (
    APP_ID,
    BOT_ID,
    BOT_USER_ID,
    BOT_USER_NAME,
    TEAM_ID,
    TEAM_NAME,
    WORKSPACE_URL,
)

MAX_MESSAGE_TEXT = 40000
RESPONSE_URL_MAX_POSTS = 5
Args = Mapping[str, Any]
Json = dict[str, Any]


class SlackError(Exception):
    """An `{"ok": false, "error": ...}` answer, with Slack's extra fields (needed, response_metadata, ...)."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra

    def body(self) -> Json:
        return {"ok": False, "error": self.error, **self.extra}


@dataclass
class Upload:
    file_id: str
    filename: str
    length: int
    alt_txt: str | None
    content: bytes | None = None
    title: str | None = None
    channels: list[str] = field(default_factory=list)
    thread_ts: str | None = None
    initial_comment: str | None = None


@dataclass
class _ResponseUrl:
    created: float
    channel: str
    user: str
    posts: int = 0


def flag(value: Any) -> bool:
    """Slack's booleans arrive as JSON true/false or as form strings "true"/"1"."""
    return value is True or value in ("true", "1", 1)


def check_message(args: Args, *, require_content: bool = True) -> tuple[str | None, list[Any] | None]:
    """The text and blocks of a message, or the error Slack answers for them."""
    text, blocks = args.get("text"), args.get("blocks")
    if text is not None and not isinstance(text, str):
        raise SlackError("invalid_arguments")
    if require_content and not text and not blocks and not args.get("attachments"):
        raise SlackError("no_text")
    if text is not None and len(text) > MAX_MESSAGE_TEXT:
        raise SlackError("msg_too_long")
    if blocks is None:
        return text, None
    if not isinstance(blocks, list):
        raise SlackError("invalid_blocks_format")
    errors = validate_blocks(blocks)
    if errors:
        raise SlackError(
            "invalid_blocks", errors=errors, response_metadata={"messages": [f"[ERROR] {e}" for e in errors]}
        )
    return text, blocks


class Workspace:
    def __init__(
        self,
        *,
        users: Mapping[str, Mapping[str, Any]],
        usergroups: Sequence[Mapping[str, Any]],
        response_url_ttl: float,
        trigger_ttl: float,
        clock: Callable[[], float] = time.monotonic,
        channel_ids: Callable[[str], str] = str,
    ) -> None:
        """`channel_ids`: the id of a channel given by `#name` (chat.* methods take either)."""
        self.base_url = ""  # set by the server once it knows its port
        self.uploads: dict[str, Upload] = {}
        self.unfurls: list[dict[str, Any]] = []  # accepted chat.unfurl calls: channel, ts, unfurls
        self.archived: set[str] = set()
        self.home_tabs: dict[str, Json] = {}  # user -> the Home tab last published for them
        self._messages: dict[str, dict[str, Json]] = {}  # channel -> ts -> message
        self._users = {uid: dict(u) for uid, u in users.items()}
        self._usergroups = [dict(g) for g in usergroups]
        self._response_urls: dict[str, _ResponseUrl] = {}
        self._triggers: dict[str, float | None] = {}  # trigger_id -> issued at; None once exchanged
        self._response_url_ttl = response_url_ttl
        self._trigger_ttl = trigger_ttl
        self._clock = clock
        self._channel_ids = channel_ids
        self._last_ts = 0.0
        self._ids = itertools.count(1)

    # --- what tests read -----------------------------------------------------------------------------

    def messages(self, channel: str) -> list[Json]:
        channel = self._channel_ids(channel)
        return [copy.deepcopy(m) for _, m in sorted(self._messages.get(channel, {}).items())]

    def message(self, channel: str, ts: str) -> Json:
        return copy.deepcopy(self._find(self._channel_ids(channel), ts))

    def say(self, channel: str, text: str, *, user: str) -> str:
        """A person's message in `channel`; returns its ts."""
        channel = self._channel_ids(channel)
        message = self._new_message(text, None, thread_ts=None)
        message.update(user=user)
        for bot_field in ("bot_id", "app_id"):
            del message[bot_field]
        self._messages.setdefault(channel, {})[message["ts"]] = message
        return str(message["ts"])

    def delete(self, channel: str, ts: str) -> None:
        channel = self._channel_ids(channel)
        self._find(channel, ts)
        del self._messages[channel][ts]

    # --- tokens handed out with payloads ------------------------------------------------------------

    def new_response_url(self, *, channel: str, user: str) -> str:
        key = uuid.uuid4().hex
        self._response_urls[key] = _ResponseUrl(self._clock(), channel, user)
        return f"{self.base_url}/commands/{TEAM_ID}/{key}"

    def new_trigger_id(self) -> str:
        trigger_id = f"{next(self._ids)}.{uuid.uuid4().int % 10**12}.{uuid.uuid4().hex}"
        self._triggers[trigger_id] = self._clock()
        return trigger_id

    # --- Web API methods -----------------------------------------------------------------------------

    def auth_test(self, args: Args) -> Json:
        return {
            "ok": True,
            "url": WORKSPACE_URL,
            "team": TEAM_NAME,
            "user": BOT_USER_NAME,
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def chat_post_message(self, args: Args) -> Json:
        channel = self._channel(args)
        text, blocks = check_message(args)
        message = self._new_message(
            text, blocks, thread_ts=args.get("thread_ts"), broadcast=args.get("reply_broadcast")
        )
        if isinstance(args.get("metadata"), Mapping):  # kept; read back only with include_all_metadata
            message["metadata"] = dict(args["metadata"])
        self._messages.setdefault(channel, {})[message["ts"]] = message
        shown = {k: v for k, v in message.items() if k != "metadata"}
        return {"ok": True, "channel": channel, "ts": message["ts"], "message": copy.deepcopy(shown)}

    def chat_update(self, args: Args) -> Json:
        channel = self._channel(args)
        message = self._find(channel, str(args.get("ts", "")))
        if message.get("user") != BOT_USER_ID:
            raise SlackError("cant_update_message")
        text, blocks = check_message(args)
        # Slack keeps the previous blocks when an update carries none.
        if text is not None:
            message["text"] = text
        if blocks is not None:
            message["blocks"] = blocks
        message["edited"] = {"user": BOT_USER_ID, "ts": self._next_ts()}
        return {
            "ok": True,
            "channel": channel,
            "ts": message["ts"],
            "text": message["text"],
            "message": copy.deepcopy(message),
        }

    def chat_unfurl(self, args: Args) -> Json:
        """Each unfurl's blocks are checked as a message's (docs.slack.dev/reference/methods/chat.unfurl)."""
        self._channel(args)
        if not args.get("ts") and not (args.get("unfurl_id") and args.get("source")):
            raise SlackError("invalid_arguments")
        unfurls = args.get("unfurls")
        if not isinstance(unfurls, Mapping) or not unfurls:
            raise SlackError("invalid_unfurls_format")
        for unfurl in unfurls.values():
            check_message({"blocks": unfurl.get("blocks") if isinstance(unfurl, Mapping) else None})
        self.unfurls.append({"channel": args["channel"], "ts": args.get("ts"), "unfurls": dict(unfurls)})
        return {"ok": True}

    def chat_post_ephemeral(self, args: Args) -> Json:
        self._channel(args)
        if not args.get("user"):
            raise SlackError("user_not_found")
        check_message(args)
        return {"ok": True, "message_ts": self._next_ts()}

    def chat_get_permalink(self, args: Args) -> Json:
        channel = self._channel(args)
        ts = str(args.get("message_ts", ""))
        self._find(channel, ts)
        return {
            "ok": True,
            "channel": channel,
            "permalink": f"{WORKSPACE_URL}archives/{channel}/p{ts.replace('.', '')}",
        }

    def conversations_replies(self, args: Args) -> Json:
        """A thread's parent and replies, oldest first, a page (`limit`, `cursor`) at a time."""
        channel = self._conversation(args)
        ts = str(args.get("ts", ""))
        if ts not in self._messages.get(channel, {}):
            raise SlackError("thread_not_found")
        oldest = float(args.get("oldest") or 0)
        thread = [
            m
            for m in self.messages(channel)
            if m["ts"] == ts or (m.get("thread_ts") == ts and float(m["ts"]) > oldest)
        ]
        return _page(thread, args)

    def conversations_history(self, args: Args) -> Json:
        """Top-level messages (and thread parents, and replies broadcast to the channel), newest first,
        after `oldest`, a page at a time; message metadata only with `include_all_metadata`
        (docs.slack.dev/reference/methods/conversations.history)."""
        channel = self._conversation(args)
        oldest = float(args.get("oldest") or 0)
        found = [
            m
            for m in reversed(self.messages(channel))
            if float(m["ts"]) > oldest
            and (m.get("thread_ts", m["ts"]) == m["ts"] or m.get("subtype") == "thread_broadcast")
        ]
        return _page(found, args)

    def views_open(self, args: Args) -> Json:
        self._exchange_trigger(args.get("trigger_id"))
        view = args.get("view")
        errors = validate_view(view)
        if errors:
            # views.* report Block Kit problems as invalid_arguments, unlike chat.* (invalid_blocks).
            raise SlackError(
                "invalid_arguments", response_metadata={"messages": [f"[ERROR] {e}" for e in errors]}
            )
        assert isinstance(view, Mapping)
        view_id = f"V{next(self._ids):010d}"
        return {
            "ok": True,
            "view": {
                **copy.deepcopy(dict(view)),
                "id": view_id,
                "team_id": TEAM_ID,
                "app_id": APP_ID,
                "bot_id": BOT_ID,
                "state": {"values": {}},
                "hash": uuid.uuid4().hex,
            },
        }

    def views_publish(self, args: Args) -> Json:
        """A user's Home tab: validated like any view (100 blocks for home), kept per user."""
        user = str(args.get("user_id") or "")
        if not user:
            raise SlackError("invalid_arguments", response_metadata={"messages": ["[ERROR] missing user_id"]})
        view = args.get("view")
        errors = validate_view(view)
        if not errors and isinstance(view, Mapping) and view.get("type") != "home":
            errors = ["views.publish takes a home view [json-pointer:/view/type]"]
        if errors:
            raise SlackError(
                "invalid_arguments", response_metadata={"messages": [f"[ERROR] {e}" for e in errors]}
            )
        assert isinstance(view, Mapping)
        published = {**copy.deepcopy(dict(view)), "id": f"V{next(self._ids):010d}", "team_id": TEAM_ID}
        self.home_tabs[user] = published
        return {"ok": True, "view": published}

    def files_get_upload_url_external(self, args: Args) -> Json:
        filename = args.get("filename")
        length = str(args.get("length", ""))
        if not filename or not length.isdigit() or int(length) <= 0:
            raise SlackError("invalid_arguments")
        file_id = f"F{next(self._ids):010d}"
        self.uploads[file_id] = Upload(file_id, str(filename), int(length), args.get("alt_txt"))
        return {"ok": True, "upload_url": f"{self.base_url}/upload/v1/{file_id}", "file_id": file_id}

    def receive_upload(self, file_id: str, content: bytes) -> tuple[int, str]:
        upload = self.uploads.get(file_id)
        if upload is None:
            return 404, "upload URL not found"
        upload.content = content
        return 200, f"OK - {len(content)}"

    def files_complete_upload_external(self, args: Args) -> Json:
        entries = args.get("files")
        if not isinstance(entries, list) or not entries:
            raise SlackError("invalid_arguments")
        uploads = []
        for entry in entries:
            upload = self.uploads.get(entry.get("id", "")) if isinstance(entry, Mapping) else None
            if upload is None or upload.content is None:
                raise SlackError("file_not_found")
            upload.title = entry.get("title") or upload.filename
            uploads.append(upload)
        channels = [c for c in str(args.get("channels") or args.get("channel_id") or "").split(",") if c]
        thread_ts = args.get("thread_ts")
        if thread_ts and len(channels) != 1:
            raise SlackError("invalid_arguments")
        for channel in channels:
            # Sharing posts one message carrying all the files, in the thread when one is given.
            message = self._new_message(args.get("initial_comment") or "", None, thread_ts=thread_ts)
            message["files"] = [{"id": u.file_id, "name": u.filename, "title": u.title} for u in uploads]
            self._messages.setdefault(channel, {})[message["ts"]] = message
        for upload in uploads:
            upload.channels.extend(channels)
            upload.thread_ts = thread_ts
            upload.initial_comment = args.get("initial_comment")
        return {"ok": True, "files": [self._file_info(u) for u in uploads]}

    def usergroups_list(self, args: Args) -> Json:
        with_users = flag(args.get("include_users"))
        groups = []
        for group in self._usergroups:
            users = list(group.get("users", []))
            entry = {"team_id": TEAM_ID, "is_usergroup": True, "user_count": len(users), **group}
            if not with_users:
                entry.pop("users", None)
            groups.append(entry)
        return {"ok": True, "usergroups": groups}

    def users_info(self, args: Args) -> Json:
        user = str(args.get("user", ""))
        if user in self._users:
            return {"ok": True, "user": {"id": user, "team_id": TEAM_ID, **self._users[user]}}
        if user == BOT_USER_ID:
            return {"ok": True, "user": _user(user, BOT_USER_NAME, is_bot=True)}
        # Every well-formed user id exists in the fake workspace unless configured otherwise.
        if re.fullmatch(r"[UW][A-Z0-9]{2,}", user):
            return {"ok": True, "user": _user(user, user.lower(), is_bot=False)}
        raise SlackError("user_not_found")

    # --- response_url ------------------------------------------------------------------------------

    def post_to_response_url(self, key: str, body: Any) -> tuple[int, str]:
        """Slack answers response_url posts with a status and a short text, not with JSON."""
        target = self._response_urls.get(key)
        if target is None:
            return 404, "no_service"
        if self._clock() - target.created > self._response_url_ttl:
            return 404, "expired_url"
        if target.posts >= RESPONSE_URL_MAX_POSTS:
            return 404, "used_url"
        if not isinstance(body, Mapping) or body.get("response_type", "ephemeral") not in (
            "ephemeral",
            "in_channel",
        ):
            return 400, "invalid_payload"
        try:
            text, blocks = check_message(body, require_content=not flag(body.get("delete_original")))
        except SlackError as exc:
            return 400, exc.error
        target.posts += 1
        if body.get("response_type") == "in_channel" and not flag(body.get("replace_original")):
            message = self._new_message(text, blocks, thread_ts=body.get("thread_ts"))
            self._messages.setdefault(target.channel, {})[message["ts"]] = message
        return 200, "ok"

    # --- helpers -------------------------------------------------------------------------------------

    def _channel(self, args: Args) -> str:
        channel = args.get("channel")
        if not isinstance(channel, str) or not channel:
            raise SlackError("channel_not_found")
        channel = self._channel_ids(channel)
        if channel in self.archived:
            raise SlackError("is_archived")
        return channel

    def _conversation(self, args: Args) -> str:
        """conversations.history and .replies take a conversation id, never a #name (not even a known one)."""
        if not str(args.get("channel", "")).startswith(("C", "G", "D")):
            raise SlackError("channel_not_found")
        return self._channel(args)

    def _find(self, channel: str, ts: str) -> Json:
        message = self._messages.get(channel, {}).get(ts)
        if message is None:
            raise SlackError("message_not_found")
        return message

    def _exchange_trigger(self, trigger_id: Any) -> None:
        if not trigger_id or trigger_id not in self._triggers:
            raise SlackError("invalid_trigger_id")
        issued = self._triggers[trigger_id]
        if issued is None:
            raise SlackError("exchanged_trigger_id")
        if self._clock() - issued > self._trigger_ttl:
            raise SlackError("expired_trigger_id")
        self._triggers[trigger_id] = None

    def _next_ts(self) -> str:
        # Message timestamps are unique per channel and increase; microsecond steps keep both true.
        self._last_ts = max(time.time(), self._last_ts + 1e-6)
        return f"{self._last_ts:.6f}"

    def _new_message(
        self, text: str | None, blocks: list[Any] | None, *, thread_ts: Any, broadcast: Any = False
    ) -> Json:
        message: Json = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "team": TEAM_ID,
            "text": text or "",
            "ts": self._next_ts(),
        }
        if blocks is not None:
            message["blocks"] = blocks
        if thread_ts:
            message["thread_ts"] = str(thread_ts)
            if flag(broadcast):
                message["subtype"] = "thread_broadcast"
        return message

    def _file_info(self, upload: Upload) -> Json:
        return {
            "id": upload.file_id,
            "name": upload.filename,
            "title": upload.title,
            "mimetype": mimetypes.guess_type(upload.filename)[0] or "application/octet-stream",
            "size": len(upload.content or b""),
            "user": BOT_USER_ID,
            "permalink": f"{WORKSPACE_URL}files/{BOT_USER_ID}/{upload.file_id}/{upload.filename}",
        }


def _user(user_id: str, name: str, *, is_bot: bool) -> Json:
    return {
        "id": user_id,
        "team_id": TEAM_ID,
        "name": name,
        "real_name": name,
        "is_bot": is_bot,
        "deleted": False,
        "tz": "Europe/Berlin",
        "profile": {"display_name": name, "real_name": name, "team": TEAM_ID},
    }


def cursor_at(offset: int) -> str:
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def offset_of(args: Args) -> int:
    cursor = str(args.get("cursor") or "")
    if not cursor:
        return 0
    try:
        kind, _, offset = base64.b64decode(cursor, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise SlackError("invalid_cursor") from exc
    if kind != "offset" or not offset.isdigit():
        raise SlackError("invalid_cursor")
    return int(offset)


def _page(messages: list[Json], args: Args) -> Json:
    """One page of `limit` (Slack's default 100, at most 999 for history) and the next page's cursor."""
    limit = min(int(args.get("limit") or 100), 999)
    start = offset_of(args)
    more = start + limit < len(messages)
    return {
        "ok": True,
        "messages": _with_metadata(messages[start : start + limit], args),
        "has_more": more,
        "response_metadata": {"next_cursor": cursor_at(start + limit) if more else ""},
    }


def _with_metadata(messages: list[Json], args: Args) -> list[Json]:
    if flag(args.get("include_all_metadata")):
        return copy.deepcopy(messages)
    return [{k: v for k, v in m.items() if k != "metadata"} for m in messages]
