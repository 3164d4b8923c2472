"""Counting every HTTP attempt to Slack's Web API, retried ones included: slack_sdk's Web API client
asks each retry handler about every response (and every connection error), so a handler that never
retries sees them all. Its webhook client asks only about failures: a response_url post is counted
once, by its final status, where it is sent (`SlackSurface.respond`)."""

from __future__ import annotations

from urllib.parse import urlsplit

from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.foundation.metrics import SLACK_CALLS, SLACK_RATE_LIMITED


class SlackCallMeter(AsyncRetryHandler):
    async def can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        method = web_api_method(request.url)
        if method is not None:
            count_slack_call(method, response.status_code if response is not None else None)
        return False


def count_slack_call(method: str, status: int | None) -> None:
    """`status` None: no HTTP answer at all (a connection error or a timeout)."""
    SLACK_CALLS.labels(method, "error" if status is None else str(status)).inc()
    if status == 429:
        SLACK_RATE_LIMITED.labels(method).inc()


def web_api_method(url: str) -> str | None:
    """`chat.postMessage` for a Web API call; None for a response_url (counted where it is sent)."""
    path = urlsplit(url).path
    head, _, method = path.rstrip("/").rpartition("/")
    if head.endswith("/api"):
        return method
    return "file_upload" if path.startswith("/upload/") else None
