"""Answers into Slack: response_url for the requester, chat.postMessage/update for cards, and
files_upload_v2 for charts and long snippets. Rate limits (429 + Retry-After) are retried by the SDK,
except on the scheduler's client (`without_rate_limit_waits`): a live card keeps its own "not before"
in the state store, so one rate-limited card never holds up the others' round."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from functools import cached_property
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.core.surface import MessageGone, PartlyPosted, RateLimited
from bot.foundation.ports import CardRef
from bot.foundation.settings import Settings
from bot.render.message import Code, Image, Message
from bot.render.slack import MAX_SECTION_TEXT, fallback_text, to_blocks
from bot.surfaces.slack_channels import ChannelDirectory
from bot.surfaces.slack_forms import FormAck, SlackForms
from bot.surfaces.slack_meter import SlackCallMeter, count_slack_call
from bot.surfaces.slack_recall import find_posted

log = logging.getLogger(__name__)
# Errors after which a message can never be changed again (docs.slack.dev, chat.update / postMessage).
GONE = frozenset({"message_not_found", "channel_not_found", "is_archived"})
METADATA_EVENT = "amd_bot_post"  # message metadata event type carrying a scheduled post's claim key


class _NoResend:
    """A 5xx or a dropped connection may come after Slack accepted a chat.postMessage: sending it
    again posts it twice. Its caller decides instead (bot/alerts/delivery.py looks for it first)."""

    async def _can_retry_async(self, **kwargs: Any) -> bool:
        if kwargs["request"].url.endswith("/chat.postMessage"):
            return False
        return bool(await super()._can_retry_async(**kwargs))  # type: ignore[misc]


class _ServerErrors(_NoResend, AsyncServerErrorRetryHandler):
    pass


class _ConnectionErrors(_NoResend, AsyncConnectionErrorRetryHandler):
    pass


def retry_handlers() -> list[AsyncRetryHandler]:
    # Not on by default in slack_sdk: without them a 429 during a busy digest would drop a message.
    # The meter comes first: it sees every attempt, and never retries. A 429 changed nothing, so even
    # a post is safe to send again after it.
    return [
        SlackCallMeter(),
        AsyncRateLimitErrorRetryHandler(max_retry_count=3),
        _ServerErrors(max_retry_count=2),
        _ConnectionErrors(max_retry_count=2),
    ]


def slack_session(settings: Settings) -> aiohttp.ClientSession:
    """The HTTP session Slack calls share. slack_sdk applies its `timeout` only to sessions it opens
    itself; with a given one, that session's timeout is all there is (aiohttp's default: 5 min)."""
    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=settings.slack_timeout_s))


def web_client(settings: Settings, session: aiohttp.ClientSession | None = None) -> AsyncWebClient:
    """Without a `session` slack_sdk opens a new HTTP session (and connection) for every call: the
    running bot passes one shared session so calls reuse kept-alive connections."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    return AsyncWebClient(
        token=token,
        base_url=settings.slack_api_url,
        timeout=settings.slack_timeout_s,
        retry_handlers=retry_handlers(),
        session=session,
    )


def without_rate_limit_waits(client: AsyncWebClient) -> AsyncWebClient:
    """The same client and session, but a 429 comes back at once as RateLimited instead of being
    slept out inside the call (and so inside the scheduler's round)."""
    handlers = [h for h in client.retry_handlers if not isinstance(h, AsyncRateLimitErrorRetryHandler)]
    return _with_handlers(client, handlers)


def with_rate_limit_waits(client: AsyncWebClient) -> AsyncWebClient:
    """The same client and session with all of `retry_handlers()`: a 429 is slept out (Retry-After)."""
    return _with_handlers(client, retry_handlers())


def _with_handlers(client: AsyncWebClient, handlers: list[AsyncRetryHandler]) -> AsyncWebClient:
    return AsyncWebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        session=client.session,
        retry_handlers=handlers,
    )


@asynccontextmanager
async def _card_errors() -> AsyncIterator[None]:
    try:
        yield
    except SlackApiError as exc:
        if exc.response.status_code == 429:
            raise RateLimited(float(exc.response.headers.get("Retry-After", 1))) from exc
        if exc.response.get("error") in GONE:
            raise MessageGone(str(exc.response.get("error"))) from exc
        raise


class SlackSurface(SlackForms):
    def __init__(
        self,
        client: AsyncWebClient,
        *,
        channel: str = "",
        user: str = "",
        response_url: str | None = None,
        replace: bool = False,
        trigger_id: str | None = None,
        form_ack: FormAck | None = None,
    ) -> None:
        self.client = client
        self.trigger_id = trigger_id
        self.form_ack = form_ack
        self.channel = channel
        self.user = user
        self.response_url = response_url
        self.replace = replace  # a button's answer replaces the message that had the button

    async def respond(self, message: Message) -> None:
        blocks, text = to_blocks(message), fallback_text(message)
        if self.response_url:
            hook = AsyncWebhookClient(
                self.response_url,
                timeout=self.client.timeout,
                session=self.client.session,
                retry_handlers=retry_handlers(),
            )
            sent = await hook.send(
                text=text,
                blocks=blocks,
                response_type="in_channel" if message.public else "ephemeral",
                replace_original=self.replace and message.replace,
            )
            count_slack_call("response_url", sent.status_code)
            if sent.status_code != 200:
                log.warning("response_url answered %s: %s", sent.status_code, sent.body[:200])
        elif message.public:
            await self.client.chat_postMessage(channel=self.channel, text=text, blocks=blocks)
        else:
            await self.client.chat_postEphemeral(
                channel=self.channel, user=self.user, text=text, blocks=blocks
            )
        await self._attachments(message, self.channel, None)

    async def post(
        self, message: Message, *, channel: str | None = None, thread: CardRef | None = None
    ) -> CardRef:
        where = channel or self.channel
        metadata = (
            {"event_type": METADATA_EVENT, "event_payload": {"key": message.key}} if message.key else None
        )
        async with _card_errors():
            posted = await self.client.chat_postMessage(
                channel=where,
                text=fallback_text(message),
                blocks=to_blocks(message),
                thread_ts=thread.ts if thread else None,
                reply_broadcast=bool(thread and message.broadcast) or None,
                metadata=metadata,
            )
        ref = CardRef(str(posted["channel"]), str(posted["ts"]))
        try:
            await self._attachments(message, ref.channel, thread or ref)
        except Exception as exc:
            raise PartlyPosted(ref) from exc
        return ref

    @cached_property
    def channels(self) -> ChannelDirectory:
        """Channel names to ids, made on first use: the scheduler's surface lives as long as the
        process, and so does its directory's cache."""
        return ChannelDirectory(with_rate_limit_waits(self.client))

    async def find_posted(
        self, channel: str, key: str, *, since: datetime, thread: CardRef | None = None
    ) -> CardRef | None:
        """The message posted with this key after `since` (its metadata), or None (slack_recall.py)."""
        return await find_posted(self.client, self.channels, channel, key, since=since, thread=thread)

    async def update(self, ref: CardRef, message: Message) -> None:
        async with _card_errors():
            await self.client.chat_update(
                channel=ref.channel, ts=ref.ts, text=fallback_text(message), blocks=to_blocks(message)
            )

    async def _attachments(self, message: Message, channel: str, thread: CardRef | None) -> None:
        """Charts, and snippets too long for a block, go up as files next to the message."""
        if not channel:
            return
        thread_ts = thread.ts if thread else None
        for part in message.parts:
            if isinstance(part, Image):
                await self.client.files_upload_v2(
                    channel=channel,
                    file=str(part.path),
                    title=part.title,
                    alt_txt=part.alt,
                    thread_ts=thread_ts,
                )
            elif isinstance(part, Code) and len(part.text) > MAX_SECTION_TEXT - 200:
                name = (part.title or "snippet").replace(" ", "_")[:60] + ".txt"
                await self.client.files_upload_v2(
                    channel=channel, content=part.text, filename=name, title=part.title, thread_ts=thread_ts
                )
