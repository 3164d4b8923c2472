"""A recording Slack Web API server for tests: a real aiohttp server that answers like Slack does and
keeps every request it received, so a test can look at exactly what reached "Slack".

It enforces what Slack enforces: bearer tokens and their kind (xoxb- for the bot, xapp- for
apps.connections.open), the bot's OAuth scopes (by default those in deploy/slack/manifest.yaml),
Block Kit limits (invalid_blocks with JSON pointers), message length, per-method rate limits (HTTP 429
+ Retry-After), five posts per response_url within 30 minutes, single-use trigger ids within 3 s.

    async with FakeSlack() as slack:
        client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
        await client.chat_postMessage(channel="C1", text="hi")
        [call] = await slack.wait_for("chat.postMessage")
        assert call.args["text"] == "hi"
"""

from __future__ import annotations

import contextlib
import json
import time
from collections import deque
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

from tests.slack_fake.channels import TYPE_SCOPES, Channels, list_types
from tests.slack_fake.identity import (
    APP_ID,
    APP_TOKEN_PREFIX,
    BOT_TOKEN_PREFIX,
    TEAM_DOMAIN,
    TEAM_ID,
)
from tests.slack_fake.rate_limits import DEFAULT_LIMITS, Limit, RateLimiter
from tests.slack_fake.server import LocalServer
from tests.slack_fake.socket_mode import SocketModeServer
from tests.slack_fake.workspace import Args, Json, SlackError, Upload, Workspace

MANIFEST = Path(__file__).resolve().parents[2] / "deploy" / "slack" / "manifest.yaml"
# Form-encoded requests carry these as JSON strings; Slack decodes them, so the recording does too.
JSON_FIELDS = ("blocks", "attachments", "view", "files", "metadata", "unfurls")
# The scope each method needs from the bot token (docs.slack.dev/reference/methods/<method>).
METHOD_SCOPES: Mapping[str, str] = {
    "chat.postMessage": "chat:write",
    "conversations.history": "channels:history",  # public channels; private ones: groups:history
    "conversations.replies": "channels:history",
    "conversations.list": "channels:read",  # public channels; private ones: groups:read (TYPE_SCOPES)
    "conversations.join": "channels:join",
    "chat.postEphemeral": "chat:write",
    "chat.update": "chat:write",
    "chat.unfurl": "links:write",
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
    "usergroups.list": "usergroups:read",
    "users.info": "users:read",
}
# Methods a bot token may call with no particular scope (docs.slack.dev/reference/methods/views.publish).
SCOPELESS_METHODS = frozenset({"views.publish", "views.open"})
# conversations.replies and .history need the history scope of the kind of conversation it reads.
HISTORY_SCOPES: Mapping[str, str] = {"C": "channels:history", "G": "groups:history", "D": "im:history"}
APP_TOKEN_METHODS = frozenset({"apps.connections.open"})
_KIND = {True: "accepted ", False: "refused ", None: ""}
LOST = 0  # an internal status: the answer is dropped with the connection


@dataclass(frozen=True)
class Call:
    """One request that reached the fake, and what it answered."""

    method: str  # a Web API method, or "response_url" / "file_upload"
    args: dict[str, Any]  # query and body merged; JSON-string fields (blocks, view, ...) decoded
    headers: Mapping[str, str]  # case-insensitive
    at: float  # time.monotonic() on arrival
    status: int
    response: Any  # the JSON answered, or the text for response_url and upload posts
    url: str

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300 and not (
            isinstance(self.response, dict) and not self.response.get("ok")
        )


@dataclass(frozen=True)
class _Failure:
    status: int
    retry_after: int
    error: str | None
    channel: str | None  # None: whatever the channel
    accepted: bool = False  # the call takes effect, and then its answer is this failure
    lost: bool = False  # the call takes effect, and then the connection drops without an answer

    def matches(self, args: Args) -> bool:
        return self.channel is None or self.channel == args.get("channel")


class FakeSlack(LocalServer):
    def __init__(
        self,
        *,
        bot_token: str | None = None,
        app_token: str | None = None,
        scopes: Collection[str] | None = None,
        rate_limits: Mapping[str, Limit | None] | None = None,
        time_scale: float = 1.0,
        socket_mode: SocketModeServer | None = None,
        users: Mapping[str, Mapping[str, Any]] | None = None,
        usergroups: Sequence[Mapping[str, Any]] = (),
        response_url_ttl: float = 30 * 60.0,
        trigger_ttl: float = 3.0,
    ) -> None:
        """`bot_token`/`app_token` None: any xoxb-/xapp- token is accepted. `scopes` None: the bot scopes
        of deploy/slack/manifest.yaml. `rate_limits` replaces entries of `DEFAULT_LIMITS`."""
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/commands/{team}/{key}", self._response_url)
        app.router.add_post("/upload/v1/{file_id}", self._upload)
        super().__init__(app)
        self._bot_token = bot_token
        self._app_token = app_token
        self.scopes = frozenset(_manifest_bot_scopes() if scopes is None else scopes)
        self._limiter = RateLimiter({**DEFAULT_LIMITS, **(rate_limits or {})}, time_scale=time_scale)
        self._socket_mode = socket_mode
        self._failures: dict[str, deque[_Failure]] = {}
        self.refusing: dict[str, str] = {}  # channel id -> the error every post or edit there gets
        self.channels = Channels()
        self.workspace = Workspace(
            channel_ids=self.channels.resolve,
            users=users or {},
            usergroups=usergroups,
            response_url_ttl=response_url_ttl,
            trigger_ttl=trigger_ttl,
        )
        self.calls: list[Call] = []
        self._methods: Mapping[str, Callable[[Args], Json]] = {
            "auth.test": self.workspace.auth_test,
            "apps.connections.open": self._apps_connections_open,
            "chat.postMessage": self.workspace.chat_post_message,
            "chat.postEphemeral": self.workspace.chat_post_ephemeral,
            "chat.update": self.workspace.chat_update,
            "chat.getPermalink": self.workspace.chat_get_permalink,
            "chat.unfurl": self.workspace.chat_unfurl,
            "conversations.replies": self._readable(self.workspace.conversations_replies),
            "conversations.history": self._readable(self.workspace.conversations_history),
            "conversations.join": lambda args: self.channels.join(args, self.workspace.archived),
            "conversations.list": self._conversations_list,
            "views.open": self.workspace.views_open,
            "views.publish": self.workspace.views_publish,
            "files.getUploadURLExternal": self.workspace.files_get_upload_url_external,
            "files.completeUploadExternal": self.workspace.files_complete_upload_external,
            "usergroups.list": self.workspace.usergroups_list,
            "users.info": self.workspace.users_info,
        }

    async def start(self) -> None:
        await super().start()
        self.workspace.base_url = self.base_url

    # --- what tests use ------------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        """Pass as `AsyncWebClient(base_url=...)`; the trailing slash matters to slack_sdk."""
        return f"{self.base_url}/api/"

    @property
    def uploads(self) -> Mapping[str, Upload]:
        return self.workspace.uploads

    def calls_to(self, method: str, *, ok: bool | None = None) -> list[Call]:
        return [c for c in self.calls if c.method == method and (ok is None or c.ok == ok)]

    async def wait_for(
        self, method: str, count: int = 1, timeout: float = 10.0, *, ok: bool | None = True
    ) -> list[Call]:
        """The first `count` calls to `method` (by default only the accepted ones), once they arrived."""
        await self._wait(
            lambda: len(self.calls_to(method, ok=ok)) >= count,
            timeout,
            lambda: f"expected {count} {_KIND[ok]}{method} calls; got {self._summary()}",
        )
        return self.calls_to(method, ok=ok)[:count]

    def new_response_url(self, *, channel: str = "C0FAKE0001", user: str = "U0FAKE0001") -> str:
        """A response_url served here: 5 posts within 30 minutes, like the ones Slack hands out."""
        return self.workspace.new_response_url(channel=channel, user=user)

    def responses(self, response_url: str) -> list[dict[str, Any]]:
        """The bodies accepted at `response_url`, in order."""
        return [c.args for c in self.calls if c.method == "response_url" and c.url == response_url and c.ok]

    async def wait_for_response(
        self, response_url: str, count: int = 1, timeout: float = 10.0
    ) -> list[dict[str, Any]]:
        await self._wait(
            lambda: len(self.responses(response_url)) >= count,
            timeout,
            lambda: f"expected {count} posts to {response_url}; got {self._summary()}",
        )
        return self.responses(response_url)[:count]

    def new_trigger_id(self) -> str:
        """A trigger id views.open accepts once, within 3 s."""
        return self.workspace.new_trigger_id()

    def slash_command_payload(
        self,
        text: str = "",
        *,
        command: str = "/amd",
        user_id: str = "U0FAKE0001",
        channel_id: str = "C0FAKE0001",
        channel_name: str = "data-ops",
    ) -> dict[str, str]:
        """The fields Slack sends for a slash command, with a live response_url and trigger_id."""
        return {
            "team_id": TEAM_ID,
            "team_domain": TEAM_DOMAIN,
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": self.new_response_url(channel=channel_id, user=user_id),
            "trigger_id": self.new_trigger_id(),
        }

    def messages(self, channel: str) -> list[Json]:
        """The channel as a user would see it now: messages in ts order, updates applied."""
        return self.workspace.messages(channel)

    def message(self, channel: str, ts: str) -> Json:
        return self.workspace.message(channel, ts)

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int = 1,
        error: str | None = None,
        times: int = 1,
        channel: str | None = None,
        accepted: bool = False,
        lost: bool = False,
    ) -> None:
        """Answer the next `times` calls to `method` with 429 (+ Retry-After), a 5xx, or 200 + `error`;
        with `channel`, only calls about that channel fail (one card's trouble, not everybody's).
        `accepted`: Slack did it and then answered the failure (a 5xx after accepting); `lost`: Slack
        did it and the answer never came (the connection drops)."""
        if status != 429 and status < 500 and error is None and not lost:
            raise ValueError(f"a {status} failure needs an `error`, e.g. error='not_in_channel'")
        queue = self._failures.setdefault(method, deque())
        queue.extend(_Failure(status, retry_after, error, channel, accepted, lost) for _ in range(times))

    def say(self, channel: str, text: str, *, user: str = "U0PERSON01") -> str:
        """Someone writes in `channel` (a busy channel's history has many pages)."""
        return self.workspace.say(channel, text, user=user)

    def refuse(self, channel: str, error: str) -> None:
        """From now on every chat.postMessage/update to `channel` answers `error` (e.g. `not_in_channel`
        for a private channel the bot was never invited to, `channel_not_found` for a mistyped name)."""
        self.refusing[self.channels.resolve(channel)] = error

    def delete_message(self, channel: str, ts: str) -> None:
        """Someone deleted the message: updating it answers `message_not_found` from now on."""
        self.workspace.delete(channel, ts)

    def archive(self, channel: str) -> None:
        """The channel was archived: posting or updating there answers `is_archived` from now on."""
        self.workspace.archived.add(self.channels.resolve(channel))

    def create_channel(self, name: str, *, private: bool = False, member: bool = True) -> str:
        """A channel of the workspace, by name: listed by conversations.list, and `#name` (or `name`)
        posts there and answers with its id, as Slack does. Returns the id. `member=False`: the bot
        posts there (chat:write.public) but reads it only after conversations.join."""
        return self.channels.create(name, private=private, member=member)

    # --- HTTP ----------------------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        at = time.monotonic()
        method = request.match_info["method"]
        args: dict[str, Any] = {}
        headers: dict[str, str]
        try:
            args = await _read_args(request)
        except SlackError as exc:
            status, body, headers = 200, exc.body(), {}
        else:
            token = _bearer(request) or args.pop("token", None)
            status, body, headers = self._answer(method, args, token)
        await self._record(Call(method, args, _headers(request), at, status, body, str(request.url)))
        if status == LOST and request.transport is not None:
            request.transport.abort()  # done, and no answer: the caller cannot tell whether it was
        return web.json_response(body, status=status if status != LOST else 500, headers=headers)

    def _answer(self, method: str, args: dict[str, Any], token: Any) -> tuple[int, Json, dict[str, str]]:
        handler = self._methods.get(method)
        if handler is None:
            return 200, {"ok": False, "error": "unknown_method", "req_method": method}, {}
        try:
            self._authenticate(method, args, token)
        except SlackError as exc:
            return 200, exc.body(), {}
        refused = self.refusing.get(self.channels.resolve(str(args.get("channel", ""))))
        if refused is not None and method in ("chat.postMessage", "chat.update"):
            return 200, {"ok": False, "error": refused}, {}
        failure = self._take_failure(method, args)
        if failure is not None:
            if failure.accepted or failure.lost:
                with contextlib.suppress(SlackError):
                    handler(args)
            return (LOST, {}, {}) if failure.lost else _forced(failure)
        retry_after = self._limiter.admit(method, args.get("channel"))
        if retry_after is not None:
            return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)}
        # Slack names the token's scopes on every answer to it (what `amd-bot doctor` reads).
        scopes = {"X-OAuth-Scopes": ",".join(sorted(self.scopes))}
        try:
            return 200, handler(args), scopes
        except SlackError as exc:
            return 200, exc.body(), scopes

    def _take_failure(self, method: str, args: Args) -> _Failure | None:
        queue = self._failures.get(method, deque())
        failure = next((f for f in queue if f.matches(args)), None)
        if failure is not None:
            queue.remove(failure)
        return failure

    def _authenticate(self, method: str, args: Args, token: Any) -> None:
        if not token:
            raise SlackError("not_authed")
        kind = self._token_kind(str(token))
        if kind is None:
            raise SlackError("invalid_auth")
        needs = "app" if method in APP_TOKEN_METHODS else "bot"
        if kind != needs:
            raise SlackError("not_allowed_token_type")
        for needed in _needed_scopes(method, args):
            if needed not in self.scopes:
                raise SlackError("missing_scope", needed=needed, provided=",".join(sorted(self.scopes)))

    def _token_kind(self, token: str) -> str | None:
        for kind, expected, prefix in (
            ("bot", self._bot_token, BOT_TOKEN_PREFIX),
            ("app", self._app_token, APP_TOKEN_PREFIX),
        ):
            if token == expected or (
                expected is None and token.startswith(prefix) and len(token) > len(prefix)
            ):
                return kind
        return None

    def _readable(self, read: Callable[[Args], Json]) -> Callable[[Args], Json]:
        def checked(args: Args) -> Json:
            self.channels.readable(args)
            return read(args)

        return checked

    def _conversations_list(self, args: Args) -> Json:
        return self.channels.conversations_list(args, self.workspace.archived)

    def _apps_connections_open(self, args: Args) -> Json:
        if self._socket_mode is None:
            raise SlackError("socket_mode_not_configured_in_fake")
        return {"ok": True, "url": self._socket_mode.issue_url()}

    async def _response_url(self, request: web.Request) -> web.Response:
        at = time.monotonic()
        try:
            body = await request.json()
        except ValueError:
            body = None
        status, text = self.workspace.post_to_response_url(request.match_info["key"], body)
        args = body if isinstance(body, dict) else {}
        await self._record(Call("response_url", args, _headers(request), at, status, text, str(request.url)))
        return web.Response(status=status, text=text)

    async def _upload(self, request: web.Request) -> web.Response:
        at = time.monotonic()
        content = await request.read()
        file_id = request.match_info["file_id"]
        status, text = self.workspace.receive_upload(file_id, content)
        args = {"file_id": file_id, "size": len(content)}
        await self._record(Call("file_upload", args, _headers(request), at, status, text, str(request.url)))
        # slack_sdk reads upload answers as text/plain, which is what Slack's upload host sends.
        return web.Response(status=status, text=text)

    async def _record(self, call: Call) -> None:
        self.calls.append(call)
        await self._notify()

    def _summary(self) -> str:
        return ", ".join(f"{c.method}→{c.status}" for c in self.calls) or "no calls"


def _needed_scopes(method: str, args: Args) -> list[str]:
    if method in ("conversations.replies", "conversations.history"):
        return [HISTORY_SCOPES.get(str(args.get("channel", ""))[:1], "channels:history")]
    if method == "conversations.list":  # the scope of each conversation type it lists
        return [TYPE_SCOPES[t] for t in list_types(args) if t in TYPE_SCOPES]
    return [scope] if (scope := METHOD_SCOPES.get(method)) else []


def _forced(failure: _Failure) -> tuple[int, Json, dict[str, str]]:
    if failure.status == 429:
        return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(failure.retry_after)}
    if failure.status >= 500:
        return failure.status, {"ok": False, "error": "internal_error"}, {}
    return failure.status, {"ok": False, "error": failure.error}, {}


async def _read_args(request: web.Request) -> dict[str, Any]:
    """Slack takes arguments from the query string and from a form or JSON body alike."""
    args: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise SlackError("invalid_json") from None
            if not isinstance(body, dict):
                raise SlackError("invalid_json")
            args.update(body)
        else:
            form = await request.post()
            args.update({k: v for k, v in form.items() if isinstance(v, str)})
    for key in JSON_FIELDS:
        # Undecodable text stays text: the method answers it as malformed (e.g. invalid_blocks_format).
        if isinstance(args.get(key), str):
            with contextlib.suppress(ValueError):
                args[key] = json.loads(args[key])
    return args


def _bearer(request: web.Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _headers(request: web.Request) -> Mapping[str, str]:
    return CIMultiDictProxy(CIMultiDict(request.headers))


def _manifest_bot_scopes() -> list[str]:
    manifest = yaml.safe_load(MANIFEST.read_text())
    return list(manifest["oauth_config"]["scopes"]["bot"])
