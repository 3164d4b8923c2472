"""Whatever arrives at /slack/events, a malformed request gets a 4xx and leaves no traceback: the
endpoint is public, and a crafted header must not cost a 500 or flood the log."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from tests.support.bot import BotHarness, sign

FORM = "application/x-www-form-urlencoded"


def assert_refused_quietly(status: int, caplog: pytest.LogCaptureFixture, what: str) -> None:
    assert 400 <= status < 500, f"{what}: {status}"
    noisy = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert noisy == [], f"{what}: {[r.getMessage() for r in noisy]}"
    assert "Traceback" not in caplog.text, what


@pytest.mark.parametrize(
    "timestamp",
    ["12ab", "", " ", "9" * 5000, "-1", "1e9", "0x10", "１２３", str(10**30)],
    ids=["letters", "empty", "blank", "huge", "negative", "float", "hex", "fullwidth", "far-future"],
)
async def test_a_malformed_timestamp_is_refused_without_a_traceback(
    bot: BotHarness, caplog: pytest.LogCaptureFixture, timestamp: str
) -> None:
    caplog.set_level(logging.INFO)
    url = bot.slack.new_response_url()
    body = bot.form("/amd help", user="U1", channel="C1", response_url=url)
    headers = {**sign(body), "X-Slack-Request-Timestamp": timestamp}

    status, _ = await bot.post(body, headers)

    assert_refused_quietly(status, caplog, repr(timestamp[:20]))
    await asyncio.sleep(0.2)
    assert bot.slack.responses(url) == []


@pytest.mark.parametrize(
    "signature",
    [None, "", "garbled", "v0=", "v0=zz", "v1=" + "0" * 64, "v0=" + "g" * 64, "v0=" + "0" * 5000],
    ids=["missing", "empty", "garbled", "prefix-only", "not-hex", "other-version", "bad-hex", "huge"],
)
async def test_a_missing_or_garbled_signature_is_refused_without_a_traceback(
    bot: BotHarness, caplog: pytest.LogCaptureFixture, signature: str | None
) -> None:
    caplog.set_level(logging.INFO)
    url = bot.slack.new_response_url()
    body = bot.form("/amd help", user="U1", channel="C1", response_url=url)
    headers = sign(body)
    del headers["X-Slack-Signature"]
    if signature is not None:
        headers["X-Slack-Signature"] = signature

    status, _ = await bot.post(body, headers)

    assert_refused_quietly(status, caplog, repr(signature))
    await asyncio.sleep(0.2)
    assert bot.slack.responses(url) == []


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"\xff\xfe\x00not utf-8", FORM),
        (b'{"type": "event_callback", "event": ', "application/json"),
        (b"[1, 2, 3]", "application/json"),
        (b'"just a string"', "application/json"),
        (b"payload=%7Bnot+json", FORM),
        (b"payload=%5B%5D", FORM),
        (b"<xml>hello</xml>", "application/xml"),
    ],
    ids=["not-utf8", "broken-json", "json-list", "json-string", "broken-payload", "payload-list", "xml"],
)
async def test_a_signed_body_that_is_neither_form_nor_json_is_refused_without_a_traceback(
    bot: BotHarness, caplog: pytest.LogCaptureFixture, body: bytes, content_type: str
) -> None:
    caplog.set_level(logging.INFO)
    headers = {**sign(body), "Content-Type": content_type}

    status, _ = await bot.post(body, headers)

    assert_refused_quietly(status, caplog, repr(body[:20]))


async def test_a_correctly_signed_request_still_works_after_the_checks(bot: BotHarness) -> None:
    reply = await bot.slash("/amd help")
    assert reply.status == 200
    (answer,) = await bot.answers(reply)
    assert "stats" in str(answer)


async def test_replay_window_is_slacks_five_minutes(bot: BotHarness) -> None:
    url = bot.slack.new_response_url()
    body = bot.form("/amd help", user="U1", channel="C1", response_url=url)
    just_inside = sign(body, timestamp=int(time.time()) - 4 * 60)
    outside = sign(body, timestamp=int(time.time()) + 6 * 60)

    assert (await bot.post(body, outside))[0] == 401
    assert (await bot.post(body, just_inside))[0] == 200
