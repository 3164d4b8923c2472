"""Channel names to ids (`ChannelDirectory`) against FakeSlack's conversations.list, with an injected clock:
one listing per TTL however many lookups, once more on a miss, every page of a large workspace, 429s
slept out."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.surfaces.slack import retry_handlers, with_rate_limit_waits, without_rate_limit_waits
from bot.surfaces.slack_channels import PAGE, TTL_S, ChannelDirectory
from tests.slack_fake.web_api import FakeSlack


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as server:
        yield server


def client_of(slack: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token="xoxb-test-channels", base_url=slack.api_url)


async def test_many_lookups_make_one_list_per_ttl(slack: FakeSlack) -> None:
    payments, ops = slack.create_channel("amd-payments-support"), slack.create_channel("amd-ops")
    clock = Clock()
    directory = ChannelDirectory(client_of(slack), clock=clock)

    for _ in range(50):
        assert await directory.channel_id("#amd-payments-support") == payments
        assert await directory.channel_id("amd-ops") == ops
        clock.now += (TTL_S - 1) / 50
    assert len(slack.calls_to("conversations.list")) == 1
    clock.now += 1  # the list is TTL_S old now
    assert await directory.channel_id("#amd-ops") == ops
    assert len(slack.calls_to("conversations.list")) == 2
    (call, _) = slack.calls_to("conversations.list")
    assert call.args["types"] == "public_channel,private_channel"
    assert call.args["exclude_archived"] in ("1", "true", True)
    assert int(call.args["limit"]) == PAGE


async def test_an_id_needs_no_lookup(slack: FakeSlack) -> None:
    directory = ChannelDirectory(client_of(slack))
    assert await directory.channel_id("C0123ABCD") == "C0123ABCD"
    assert await directory.channel_id("G0PRIVATE") == "G0PRIVATE"
    assert slack.calls_to("conversations.list") == []


async def test_a_miss_lists_once_more_then_waits_for_the_ttl(slack: FakeSlack) -> None:
    clock = Clock()
    directory = ChannelDirectory(client_of(slack), clock=clock)
    slack.create_channel("amd-ops")
    assert await directory.channel_id("#amd-ops")
    created = slack.create_channel("amd-new-team")  # after the list was made

    assert await directory.channel_id("#amd-new-team") == created  # a miss: listed once more
    assert await directory.channel_id("#nowhere") is None
    assert await directory.channel_id("#nowhere") is None  # not listed again for a name still missing
    assert len(slack.calls_to("conversations.list")) == 3
    slack.create_channel("nowhere")
    clock.now += TTL_S
    assert await directory.channel_id("#nowhere")
    assert len(slack.calls_to("conversations.list")) == 4


async def test_every_page_of_a_large_workspace_is_read(slack: FakeSlack) -> None:
    ids = [slack.create_channel(f"team-{n:04d}") for n in range(2 * PAGE + 500)]
    private = slack.create_channel("zz-private", private=True)
    directory = ChannelDirectory(client_of(slack))

    assert await directory.channel_id("#team-0000") == ids[0]
    assert await directory.channel_id("#team-2499") == ids[-1]
    assert await directory.channel_id("#zz-private") == private
    calls = slack.calls_to("conversations.list")
    assert len(calls) == 3  # 1,000 + 1,000 + 501
    assert [bool(c.args.get("cursor")) for c in calls] == [False, True, True]


async def test_a_429_is_slept_out_even_behind_the_schedulers_client(slack: FakeSlack) -> None:
    schedulers = without_rate_limit_waits(
        AsyncWebClient(token="xoxb-test-channels", base_url=slack.api_url, retry_handlers=retry_handlers())
    )
    payments = slack.create_channel("amd-payments-support")
    slack.fail_next("conversations.list", status=429, retry_after=1, times=2)
    with pytest.raises(SlackApiError):  # the scheduler's own client hands a 429 back at once
        await schedulers.conversations_list()
    directory = ChannelDirectory(with_rate_limit_waits(schedulers))

    started = time.monotonic()
    assert await directory.channel_id("#amd-payments-support") == payments
    assert time.monotonic() - started >= 1.0
    assert [c.status for c in slack.calls_to("conversations.list")] == [429, 429, 200]


async def test_a_refused_list_raises_and_is_tried_again_at_the_next_lookup() -> None:
    async with FakeSlack(scopes=["chat:write", "channels:read"]) as slack:
        payments = slack.create_channel("amd-payments-support")
        directory = ChannelDirectory(client_of(slack))
        with pytest.raises(SlackApiError) as refused:
            await directory.channel_id("#amd-payments-support")
        slack.scopes = frozenset({"chat:write", "channels:read", "groups:read"})  # the app was reinstalled
        assert await directory.channel_id("#amd-payments-support") == payments
    assert refused.value.response["needed"] == "groups:read"
