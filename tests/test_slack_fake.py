"""The fake Slack servers behave like Slack, as seen through the real slack_sdk clients the bot uses."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from tests.slack_fake.identity import BOT_ID, BOT_USER_ID, TEAM_ID
from tests.slack_fake.rate_limits import Limit, RateLimiter
from tests.slack_fake.socket_mode import SocketModeServer
from tests.slack_fake.web_api import FakeSlack

BOT_TOKEN = "xoxb-test-0001"
APP_TOKEN = "xapp-1-test-0001"
SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "*payment* is fresh"}}


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as server:
        yield server


def client_for(slack: FakeSlack, **kwargs: Any) -> AsyncWebClient:
    return AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url, **kwargs)


# --- Web API: auth, recording, bodies ----------------------------------------------------------------


async def test_auth_test_answers_what_bolt_needs_and_the_call_is_recorded(slack: FakeSlack) -> None:
    answer = await client_for(slack).auth_test()

    assert (answer["user_id"], answer["bot_id"], answer["team_id"]) == (BOT_USER_ID, BOT_ID, TEAM_ID)
    [call] = slack.calls_to("auth.test")
    assert call.headers["authorization"] == f"Bearer {BOT_TOKEN}"
    assert call.ok


async def test_tokens_are_checked_like_slack_does(slack: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as missing:
        await AsyncWebClient(base_url=slack.api_url).auth_test()
    with pytest.raises(SlackApiError) as garbled:
        await AsyncWebClient(token="not-a-token", base_url=slack.api_url).auth_test()
    with pytest.raises(SlackApiError) as wrong_kind:
        await client_for(slack).apps_connections_open(app_token=BOT_TOKEN)

    assert missing.value.response["error"] == "not_authed"
    assert garbled.value.response["error"] == "invalid_auth"
    assert wrong_kind.value.response["error"] == "not_allowed_token_type"


async def test_a_method_outside_the_granted_scopes_is_refused_with_the_needed_scope() -> None:
    async with FakeSlack(scopes=["chat:write"]) as slack:
        with pytest.raises(SlackApiError) as refused:
            await client_for(slack).users_info(user="U0ANNA0001")

    assert refused.value.response["error"] == "missing_scope"
    assert refused.value.response["needed"] == "users:read"


async def test_by_default_the_scopes_are_the_bot_scopes_of_the_app_manifest(slack: FakeSlack) -> None:
    assert {"commands", "chat:write", "files:write", "app_mentions:read"} <= slack.scopes
    assert "users:read" not in slack.scopes  # the manifest asks only for what the code uses


async def test_form_encoded_and_json_bodies_are_read_alike(slack: FakeSlack) -> None:
    form = {"channel": "C1", "text": "from a form", "blocks": json.dumps([SECTION])}
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{slack.api_url}chat.postMessage", data=form, headers={"Authorization": f"Bearer {BOT_TOKEN}"}
        ) as response,
    ):
        assert (await response.json())["ok"] is True
    await client_for(slack).chat_postMessage(channel="C1", text="from JSON", blocks=[SECTION])

    form_call, json_call = slack.calls_to("chat.postMessage")
    assert form_call.args["blocks"] == json_call.args["blocks"] == [SECTION]
    assert json_call.headers["content-type"].startswith("application/json")


async def test_an_unknown_method_is_answered_as_slack_does(slack: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as unknown:
        await client_for(slack).api_call("chat.postMesage", json={"channel": "C1", "text": "typo"})

    assert unknown.value.response["error"] == "unknown_method"


# --- Web API: messages -----------------------------------------------------------------------------


async def test_posted_messages_get_increasing_ts_and_updates_keep_blocks_not_sent_again() -> None:
    async with FakeSlack(scopes=["chat:write", "channels:history"]) as slack:
        await _post_update_and_read_back(slack)


async def _post_update_and_read_back(slack: FakeSlack) -> None:
    client = client_for(slack)
    first = await client.chat_postMessage(channel="C1", text="run started", blocks=[SECTION])
    second = await client.chat_postMessage(channel="C1", text="detail", thread_ts=first["ts"])
    await client.chat_update(channel="C1", ts=first["ts"], text="run finished")

    assert float(second["ts"]) > float(first["ts"])
    card = slack.message("C1", first["ts"])
    assert (card["text"], card["blocks"]) == ("run finished", [SECTION])
    replies = await client.conversations_replies(channel="C1", ts=first["ts"])
    assert [m["ts"] for m in replies["messages"]] == [first["ts"], second["ts"]]
    permalink = await client.chat_getPermalink(channel="C1", message_ts=first["ts"])
    assert permalink["permalink"].endswith(first["ts"].replace(".", ""))


async def test_updating_a_message_that_does_not_exist_fails(slack: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as missing:
        await client_for(slack).chat_update(channel="C1", ts="1700000000.000001", text="x")

    assert missing.value.response["error"] == "message_not_found"


async def test_invalid_blocks_are_refused_with_json_pointers(slack: FakeSlack) -> None:
    blocks: list[dict[str, Any]] = [
        SECTION,
        {"type": "divider"},
        {"type": "divider"},
        {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}},
    ]

    with pytest.raises(SlackApiError) as refused:
        await client_for(slack).chat_postMessage(channel="C1", text="too long", blocks=blocks)

    answer = refused.value.response
    assert answer["error"] == "invalid_blocks"
    assert answer["errors"] == ["must be less than 3001 characters [json-pointer:/blocks/3/text/text]"]
    assert slack.messages("C1") == []
    [call] = await slack.wait_for("chat.postMessage", ok=False)
    assert call.args["blocks"] == blocks


async def test_message_text_over_40000_characters_is_too_long_and_empty_messages_have_no_text(
    slack: FakeSlack,
) -> None:
    client = client_for(slack)
    with pytest.raises(SlackApiError) as too_long:
        await client.chat_postMessage(channel="C1", text="x" * 40001)
    with pytest.raises(SlackApiError) as empty, pytest.warns(UserWarning, match="`text` argument is missing"):
        await client.chat_postMessage(channel="C1", text="")
    await client.chat_postMessage(channel="C1", text="x" * 40000)

    assert too_long.value.response["error"] == "msg_too_long"
    assert empty.value.response["error"] == "no_text"


async def test_usergroups_and_users() -> None:
    group = {"id": "S0PAYMENTS", "handle": "payments", "name": "Payments", "users": ["U0ANNA0001"]}
    async with FakeSlack(usergroups=[group], scopes=["usergroups:read", "users:read"]) as slack:
        client = client_for(slack)
        without = await client.usergroups_list()
        with_users = await client.usergroups_list(include_users=True)
        anna = await client.users_info(user="U0ANNA0001")
        with pytest.raises(SlackApiError) as nobody:
            await client.users_info(user="nobody")

    assert "users" not in without["usergroups"][0]
    assert with_users["usergroups"][0]["users"] == ["U0ANNA0001"]
    assert anna["user"]["id"] == "U0ANNA0001"
    assert nobody.value.response["error"] == "user_not_found"


# --- Web API: views and trigger ids ------------------------------------------------------------------


def modal(title: str) -> dict[str, Any]:
    return {"type": "modal", "title": {"type": "plain_text", "text": title}, "blocks": [SECTION]}


async def test_a_trigger_id_opens_one_view(slack: FakeSlack) -> None:
    client = client_for(slack)
    trigger_id = slack.new_trigger_id()

    opened = await client.views_open(trigger_id=trigger_id, view=modal("Confirm run"))
    with pytest.raises(SlackApiError) as reused:
        await client.views_open(trigger_id=trigger_id, view=modal("Confirm run"))

    assert opened["view"]["id"].startswith("V")
    assert reused.value.response["error"] == "exchanged_trigger_id"


async def test_a_trigger_id_expires_and_views_report_block_problems_as_invalid_arguments() -> None:
    async with FakeSlack(trigger_ttl=0.05) as slack:
        client = client_for(slack)
        stale = slack.new_trigger_id()
        await asyncio.sleep(0.1)
        with pytest.raises(SlackApiError) as expired:
            await client.views_open(trigger_id=stale, view=modal("Confirm run"))
        with pytest.raises(SlackApiError) as invalid:
            await client.views_open(
                trigger_id=slack.new_trigger_id(), view=modal("A title longer than 24 chars")
            )

    assert expired.value.response["error"] == "expired_trigger_id"
    assert invalid.value.response["error"] == "invalid_arguments"
    assert invalid.value.response["response_metadata"]["messages"] == [
        "[ERROR] must be less than 25 characters [json-pointer:/view/title/text]"
    ]


# --- Web API: rate limits and injected failures ------------------------------------------------------


async def test_over_the_limit_slack_answers_429_with_retry_after() -> None:
    async with FakeSlack(rate_limits={"chat.update": Limit(per_minute=60, burst=2)}) as slack:
        client = client_for(slack)
        posted = await client.chat_postMessage(channel="C1", text="card")
        for _ in range(2):
            await client.chat_update(channel="C1", ts=posted["ts"], text="tick")
        with pytest.raises(SlackApiError) as limited:
            await client.chat_update(channel="C1", ts=posted["ts"], text="tick")

    assert limited.value.response.status_code == 429
    assert limited.value.response["error"] == "ratelimited"
    assert limited.value.response.headers["Retry-After"] == "1"


async def test_the_sdk_retry_handler_waits_out_retry_after_and_succeeds(slack: FakeSlack) -> None:
    client = client_for(slack, retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)])
    posted = await client.chat_postMessage(channel="C1", text="card")
    slack.fail_next("chat.update", status=429, retry_after=1)

    started = time.monotonic()
    await client.chat_update(channel="C1", ts=posted["ts"], text="done")

    assert time.monotonic() - started >= 1.0
    assert [c.status for c in slack.calls_to("chat.update")] == [429, 200]
    assert slack.calls_to("chat.update")[0].response == {"ok": False, "error": "ratelimited"}
    assert slack.message("C1", posted["ts"])["text"] == "done"


async def test_server_errors_and_slack_errors_can_be_injected(slack: FakeSlack) -> None:
    no_backoff = FixedValueRetryIntervalCalculator(0.0)
    client = client_for(
        slack,
        retry_handlers=[AsyncServerErrorRetryHandler(max_retry_count=1, interval_calculator=no_backoff)],
    )
    slack.fail_next("chat.postMessage", status=503)
    await client.chat_postMessage(channel="C1", text="after a 503")
    slack.fail_next("chat.postMessage", status=200, error="not_in_channel")

    with pytest.raises(SlackApiError) as refused:
        await client.chat_postMessage(channel="C1", text="not a member")

    assert [c.status for c in slack.calls_to("chat.postMessage")] == [503, 200, 200]
    assert refused.value.response["error"] == "not_in_channel"
    assert [m["text"] for m in slack.messages("C1")] == ["after a 503"]


async def test_failures_can_target_one_channel(slack: FakeSlack) -> None:
    client = client_for(slack)
    a = await client.chat_postMessage(channel="CA", text="card A")
    b = await client.chat_postMessage(channel="CB", text="card B")
    slack.fail_next("chat.update", status=429, retry_after=7, channel="CA")

    await client.chat_update(channel="CB", ts=b["ts"], text="B moves on")
    with pytest.raises(SlackApiError) as limited:
        await client.chat_update(channel="CA", ts=a["ts"], text="A waits")
    await client.chat_update(channel="CA", ts=a["ts"], text="A later")

    assert limited.value.response.headers["Retry-After"] == "7"
    assert [(c.args["channel"], c.status) for c in slack.calls_to("chat.update")] == [
        ("CB", 200),
        ("CA", 429),
        ("CA", 200),
    ]


async def test_deleted_messages_and_archived_channels_answer_like_slack(slack: FakeSlack) -> None:
    client = client_for(slack)
    gone = await client.chat_postMessage(channel="C1", text="card")
    await client.chat_postMessage(channel="C2", text="card")
    slack.delete_message("C1", gone["ts"])
    slack.archive("C2")

    with pytest.raises(SlackApiError) as deleted:
        await client.chat_update(channel="C1", ts=gone["ts"], text="tick")
    with pytest.raises(SlackApiError) as archived:
        await client.chat_postMessage(channel="C2", text="note")

    assert deleted.value.response["error"] == "message_not_found"
    assert archived.value.response["error"] == "is_archived"
    assert slack.messages("C1") == []


# --- channels by name ----------------------------------------------------------------------------------


async def test_a_known_name_posts_to_its_channel_and_answers_the_id_but_history_wants_the_id(
    slack: FakeSlack,
) -> None:
    client = client_for(slack)
    support = slack.create_channel("amd-payments-support")
    posted = await client.chat_postMessage(channel="#amd-payments-support", text="failed")

    with pytest.raises(SlackApiError) as by_name:
        await client.conversations_history(channel="#amd-payments-support")
    history = await client.conversations_history(channel=support)

    assert posted["channel"] == support
    assert [m["text"] for m in history["messages"]] == ["failed"]
    assert by_name.value.response["error"] == "channel_not_found"
    assert slack.messages("#amd-payments-support") == slack.messages(support)


async def test_conversations_list_pages_with_a_cursor_and_leaves_out_archived_and_unasked_types(
    slack: FakeSlack,
) -> None:
    client = client_for(slack)
    names = [f"team-{n:02d}" for n in range(5)]
    for name in names:
        slack.create_channel(name)
    private = slack.create_channel("secret", private=True)
    slack.archive("#team-04")

    first = await client.conversations_list(
        types="public_channel,private_channel", exclude_archived=True, limit=2
    )
    pages = [[c["name"] for c in page["channels"]] async for page in first]
    public = await client.conversations_list(limit=1000)  # Slack's default type: public channels
    with pytest.raises(SlackApiError) as bad:
        await client.conversations_list(cursor="not-a-cursor")

    assert pages == [["team-00", "team-01"], ["team-02", "team-03"], ["secret"]]
    assert ["cursor" in call.args for call in slack.calls_to("conversations.list")[:3]] == [False, True, True]
    assert [c["name"] for c in public["channels"]] == names
    assert public["response_metadata"]["next_cursor"] == ""
    assert private not in {c["id"] for c in public["channels"]}
    assert bad.value.response["error"] == "invalid_cursor"


async def test_conversations_list_needs_the_read_scope_of_each_type_it_lists() -> None:
    async with FakeSlack(scopes=["channels:read"]) as slack:
        client = client_for(slack)
        await client.conversations_list(types="public_channel")
        with pytest.raises(SlackApiError) as refused:
            await client.conversations_list(types="public_channel,private_channel")

    assert refused.value.response["error"] == "missing_scope"
    assert refused.value.response["needed"] == "groups:read"


def test_the_limiter_allows_a_burst_then_the_documented_rate() -> None:
    now = [0.0]
    limiter = RateLimiter(
        {"chat.postMessage": Limit(per_minute=60, burst=3, per_channel=True)}, clock=lambda: now[0]
    )

    assert [limiter.admit("chat.postMessage", "C1") for _ in range(3)] == [None, None, None]
    assert limiter.admit("chat.postMessage", "C1") == 1
    assert limiter.admit("chat.postMessage", "C2") is None  # another channel has its own allowance
    now[0] = 1.0
    assert limiter.admit("chat.postMessage", "C1") is None
    assert limiter.admit("users.info") is None  # no limit configured for it here


def test_time_scale_shortens_the_wait_but_retry_after_stays_whole_seconds() -> None:
    now = [0.0]
    real = RateLimiter({"apps.connections.open": Limit(per_minute=1, burst=1)}, clock=lambda: now[0])
    fast = RateLimiter(
        {"apps.connections.open": Limit(per_minute=1, burst=1)}, time_scale=0.01, clock=lambda: now[0]
    )
    for limiter in (real, fast):
        limiter.admit("apps.connections.open")

    assert real.admit("apps.connections.open") == 60
    assert fast.admit("apps.connections.open") == 1
    now[0] = 0.6
    assert fast.admit("apps.connections.open") is None
    assert real.admit("apps.connections.open") == 60


# --- files_upload_v2 -------------------------------------------------------------------------------


async def test_files_upload_v2_end_to_end(slack: FakeSlack) -> None:
    client = client_for(slack)
    card = await client.chat_postMessage(channel="C1", text="stats")
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))

    done = await client.files_upload_v2(
        content=png,
        filename="payment.png",
        title="payment volume",
        channel="C1",
        thread_ts=card["ts"],
        initial_comment="last 30 days",
    )

    file_id = done["file"]["id"]
    assert slack.uploads[file_id].content == png
    assert done["file"]["mimetype"] == "image/png"
    [shared] = [m for m in slack.messages("C1") if m.get("files")]
    assert (shared["thread_ts"], shared["text"], shared["files"][0]["id"]) == (
        card["ts"],
        "last 30 days",
        file_id,
    )
    assert [c.method for c in slack.calls[1:]] == [
        "files.getUploadURLExternal",
        "file_upload",
        "files.completeUploadExternal",
    ]


async def test_completing_an_upload_whose_bytes_never_arrived_fails(slack: FakeSlack) -> None:
    client = client_for(slack)
    started = await client.files_getUploadURLExternal(filename="x.png", length=10)

    with pytest.raises(SlackApiError) as refused:
        await client.files_completeUploadExternal(files=[{"id": started["file_id"]}], channel_id="C1")

    assert refused.value.response["error"] == "file_not_found"


# --- response_url ----------------------------------------------------------------------------------


async def test_a_response_url_takes_five_posts_and_refuses_the_sixth(slack: FakeSlack) -> None:
    url = slack.new_response_url(channel="C1")
    hook = AsyncWebhookClient(url)

    statuses = [
        (await hook.send(text=f"step {n}", response_type="ephemeral", replace_original=True)).status_code
        for n in range(5)
    ]
    sixth = await hook.send(text="one too many")

    assert statuses == [200] * 5
    assert (sixth.status_code, sixth.body) == (404, "used_url")
    posts = await slack.wait_for_response(url, count=5)
    assert [p["text"] for p in posts] == [f"step {n}" for n in range(5)]
    assert posts[0]["replace_original"] is True


async def test_a_response_url_expires_and_checks_its_blocks() -> None:
    async with FakeSlack(response_url_ttl=0.05) as slack:
        fresh = AsyncWebhookClient(slack.new_response_url())
        stale = AsyncWebhookClient(slack.new_response_url())
        invalid = await fresh.send(
            text="x", blocks=[{"type": "header", "text": {"type": "mrkdwn", "text": "h"}}]
        )
        in_channel = await fresh.send(text="for everyone", response_type="in_channel")
        await asyncio.sleep(0.1)
        expired = await stale.send(text="too late")

        assert (invalid.status_code, invalid.body) == (400, "invalid_blocks")
        assert in_channel.status_code == 200
        assert [m["text"] for m in slack.messages("C0FAKE0001")] == ["for everyone"]
        assert (expired.status_code, expired.body) == (404, "expired_url")


# --- Socket Mode -----------------------------------------------------------------------------------


class SocketApp:
    """A minimal Socket Mode app on slack_sdk's aiohttp client: records what arrives and acks it."""

    def __init__(self, slack: FakeSlack) -> None:
        self.client = SocketModeClient(
            app_token=APP_TOKEN, web_client=AsyncWebClient(base_url=slack.api_url), ping_interval=1
        )
        self.hellos: list[dict[str, Any]] = []
        self.requests: list[SocketModeRequest] = []
        self.client.message_listeners.append(self._on_message)
        self.client.socket_mode_request_listeners.append(self._on_request)

    async def _on_message(self, client: Any, message: dict[str, Any], raw: str | None) -> None:
        if message.get("type") == "hello":
            self.hellos.append(message)

    async def _on_request(self, client: Any, request: SocketModeRequest) -> None:
        self.requests.append(request)
        payload = (
            {"text": f"on it: {request.payload.get('text')}"} if request.type == "slash_commands" else None
        )
        await client.send_socket_mode_response(SocketModeResponse(request.envelope_id, payload=payload))


@pytest.fixture
async def socket_app() -> AsyncIterator[tuple[SocketModeServer, FakeSlack, SocketApp]]:
    async with SocketModeServer() as socket, FakeSlack(socket_mode=socket) as slack:
        app = SocketApp(slack)
        await app.client.connect()
        try:
            yield socket, slack, app
        finally:
            await app.client.close()


async def test_socket_mode_hello_then_a_slash_command_is_acked_with_its_payload(
    socket_app: tuple[SocketModeServer, FakeSlack, SocketApp],
) -> None:
    socket, slack, app = socket_app
    await socket.wait_for_connections(1)

    envelope_id = await socket.send_slash_command(slack.slash_command_payload("stats payment"))
    ack = await socket.wait_for_ack(envelope_id)

    assert app.hellos[0]["connection_info"]["app_id"] == socket.app_id
    assert ack.payload == {"text": "on it: stats payment"}
    assert ack.latency is not None
    assert 0 <= ack.latency < 3
    [request] = app.requests
    assert (request.type, request.accepts_response_payload) == ("slash_commands", True)
    assert request.payload["response_url"].startswith(slack.base_url)


async def test_socket_mode_events_carry_retry_fields_and_interactive_payloads_arrive(
    socket_app: tuple[SocketModeServer, FakeSlack, SocketApp],
) -> None:
    socket, _, app = socket_app
    mention = {"type": "app_mention", "user": "U0ANNA0001", "text": "<@U0AMDBOT01> is payment fresh?"}

    first = await socket.send_event(mention, event_id="Ev0001")
    retry = await socket.send_event(mention, event_id="Ev0001", retry_attempt=1, retry_reason="timeout")
    click = await socket.send_interactive({"type": "block_actions", "actions": [{"action_id": "amd:run"}]})
    for envelope_id in (first, retry, click):
        await socket.wait_for_ack(envelope_id)

    event, retried, clicked = app.requests
    assert event.payload["event_id"] == retried.payload["event_id"] == "Ev0001"
    assert (retried.retry_attempt, retried.retry_reason) == (1, "timeout")
    assert event.payload["event"]["type"] == "app_mention"
    assert (clicked.type, clicked.payload["type"]) == ("interactive", "block_actions")


async def test_socket_mode_disconnect_makes_the_client_reconnect_through_apps_connections_open(
    socket_app: tuple[SocketModeServer, FakeSlack, SocketApp],
) -> None:
    socket, slack, app = socket_app
    await socket.wait_for_connections(1)

    await socket.disconnect(reason="refresh_requested")
    await socket.wait_for_connections(2)
    envelope_id = await socket.send_slash_command(slack.slash_command_payload("help"))
    ack = await socket.wait_for_ack(envelope_id)

    assert len(slack.calls_to("apps.connections.open", ok=True)) == 2
    assert socket.envelopes[envelope_id].connection == 1
    assert ack.payload == {"text": "on it: help"}
    assert len(app.hellos) == 2


async def test_a_socket_mode_url_works_once() -> None:
    async with SocketModeServer() as socket, aiohttp.ClientSession() as http:
        url = socket.issue_url()
        async with http.ws_connect(url) as ws:
            hello = await ws.receive_json()
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(url)

    assert hello["type"] == "hello"
    assert refused.value.status == 401


async def test_apps_connections_open_without_a_socket_mode_server_says_so(slack: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as refused:
        await AsyncWebClient(base_url=slack.api_url).apps_connections_open(app_token=APP_TOKEN)

    assert refused.value.response["error"] == "socket_mode_not_configured_in_fake"
