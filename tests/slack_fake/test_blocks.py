"""The Block Kit validator refuses exactly what Slack refuses: each limit holds at its value and fails one
past it, with Slack's JSON pointer to the offending field."""

from __future__ import annotations

from typing import Any

import pytest

from tests.slack_fake.blocks import validate_blocks, validate_view


def plain(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}


def mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": mrkdwn(text)}


def button(text: str = "Run", *, value: str = "v", action_id: str = "amd:run") -> dict[str, Any]:
    return {"type": "button", "text": plain(text), "value": value, "action_id": action_id}


def select(option_text: str = "payment", value: str = "payment") -> dict[str, Any]:
    return {
        "type": "static_select",
        "action_id": "pick",
        "placeholder": plain("Entity"),
        "options": [{"text": plain(option_text), "value": value}],
    }


CARD: list[dict[str, Any]] = [
    {"type": "header", "text": plain("Run amd_payment")},
    {
        "type": "section",
        "block_id": "summary",
        "text": mrkdwn("*State:* running"),
        "fields": [mrkdwn("*DAG*\n`amd_payment`"), mrkdwn("*By*\n<@U1>")],
        "accessory": button("Open", value="run-1"),
    },
    {"type": "divider"},
    {
        "type": "context",
        "elements": [
            mrkdwn("as of 08:00 UTC"),
            {"type": "image", "image_url": "https://x/i.png", "alt_text": "i"},
        ],
    },
    {
        "type": "actions",
        "elements": [
            {**button("Trigger", action_id="amd:run.trigger:4:0"), "style": "primary"},
            {
                **button("Cancel", action_id="amd:run.cancel:4:1"),
                "confirm": {
                    "title": plain("Cancel the run?"),
                    "text": mrkdwn("The DAG run stops."),
                    "confirm": plain("Cancel it"),
                    "deny": plain("Keep it"),
                    "style": "danger",
                },
            },
            select(),
        ],
    },
    {
        "type": "image",
        "image_url": "https://x/chart.png",
        "alt_text": "payment volume",
        "title": plain("Volume"),
    },
]


def test_a_well_formed_card_is_accepted() -> None:
    assert validate_blocks(CARD) == []


def at_limit_and_past_it(make: Any, limit: int) -> tuple[list[str], list[str]]:
    return validate_blocks(make(limit)), validate_blocks(make(limit + 1))


@pytest.mark.parametrize(
    ("make", "limit", "error"),
    [
        (
            lambda n: [section("x" * n)],
            3000,
            "must be less than 3001 characters [json-pointer:/blocks/0/text/text]",
        ),
        (
            lambda n: [{"type": "section", "fields": [mrkdwn("f")] * n}],
            10,
            "no more than 10 items allowed [json-pointer:/blocks/0/fields]",
        ),
        (
            lambda n: [{"type": "section", "fields": [mrkdwn("x" * n)]}],
            2000,
            "must be less than 2001 characters [json-pointer:/blocks/0/fields/0/text]",
        ),
        (
            lambda n: [{"type": "header", "text": plain("x" * n)}],
            150,
            "must be less than 151 characters [json-pointer:/blocks/0/text/text]",
        ),
        (
            lambda n: [{"type": "context", "elements": [mrkdwn("c")] * n}],
            10,
            "no more than 10 items allowed [json-pointer:/blocks/0/elements]",
        ),
        (
            lambda n: [{"type": "actions", "elements": [button(action_id=f"a{i}") for i in range(n)]}],
            25,
            "no more than 25 items allowed [json-pointer:/blocks/0/elements]",
        ),
        (
            lambda n: [{"type": "actions", "elements": [button("x" * n)]}],
            75,
            "must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]",
        ),
        (
            lambda n: [{"type": "actions", "elements": [button(value="x" * n)]}],
            2000,
            "must be less than 2001 characters [json-pointer:/blocks/0/elements/0/value]",
        ),
        (
            lambda n: [{"type": "actions", "elements": [button(action_id="x" * n)]}],
            255,
            "must be less than 256 characters [json-pointer:/blocks/0/elements/0/action_id]",
        ),
        (
            lambda n: [{**section("s"), "block_id": "x" * n}],
            255,
            "must be less than 256 characters [json-pointer:/blocks/0/block_id]",
        ),
        (
            lambda n: [{"type": "actions", "elements": [select(option_text="x" * n)]}],
            75,
            "must be less than 76 characters [json-pointer:/blocks/0/elements/0/options/0/text/text]",
        ),
        (
            lambda n: [{"type": "actions", "elements": [select(value="x" * n)]}],
            150,
            "must be less than 151 characters [json-pointer:/blocks/0/elements/0/options/0/value]",
        ),
        (lambda n: [{"type": "divider"}] * n, 50, "no more than 50 items allowed [json-pointer:/blocks]"),
    ],
)
def test_each_limit_holds_at_its_value_and_fails_one_past_it(make: Any, limit: int, error: str) -> None:
    at_limit, past_limit = at_limit_and_past_it(make, limit)

    assert at_limit == []
    assert past_limit == [error]


@pytest.mark.parametrize(
    ("blocks", "error"),
    [
        (
            [{"type": "header", "text": mrkdwn("*bold*")}],
            "must be one of: plain_text [json-pointer:/blocks/0/text/type]",
        ),
        (
            [{"type": "actions", "elements": [{**button(), "text": mrkdwn("Run")}]}],
            "must be one of: plain_text [json-pointer:/blocks/0/elements/0/text/type]",
        ),
        ([{"type": "section"}], "must define either `text` or `fields` [json-pointer:/blocks/0]"),
        ([section("")], "must be more than 0 characters [json-pointer:/blocks/0/text/text]"),
        ([{"type": "carousel"}], "unsupported type: carousel [json-pointer:/blocks/0/type]"),
        (
            [{"type": "actions", "elements": [{"type": "plain_text_input", "action_id": "t"}]}],
            "unsupported type: plain_text_input [json-pointer:/blocks/0/elements/0/type]",
        ),
        (
            [{**section("a"), "block_id": "same"}, {**section("b"), "block_id": "same"}],
            "duplicate block_id: same [json-pointer:/blocks/1/block_id]",
        ),
        (
            [{"type": "actions", "elements": [button(), button()]}],
            "duplicate action_id: amd:run [json-pointer:/blocks/0/elements/1/action_id]",
        ),
        (
            [{"type": "actions", "elements": [{**button(), "style": "warning"}]}],
            "must be one of: primary, danger [json-pointer:/blocks/0/elements/0/style]",
        ),
        (
            [{"type": "image", "image_url": "https://x/i.png"}],
            "missing required field: alt_text [json-pointer:/blocks/0]",
        ),
        (["section"], "must provide an object [json-pointer:/blocks/0]"),
    ],
)
def test_malformed_blocks_are_refused_with_a_pointer(blocks: list[Any], error: str) -> None:
    assert validate_blocks(blocks) == [error]


def test_every_problem_is_reported_not_just_the_first() -> None:
    errors = validate_blocks([section("x" * 3001), {"type": "header", "text": plain("x" * 151)}])

    assert [e.rsplit("[", 1)[1] for e in errors] == [
        "json-pointer:/blocks/0/text/text]",
        "json-pointer:/blocks/1/text/text]",
    ]


def modal(**fields: Any) -> dict[str, Any]:
    return {"type": "modal", "title": plain("Confirm run"), "blocks": [section("Run amd_payment?")], **fields}


def test_a_modal_with_inputs_and_a_submit_button_is_accepted() -> None:
    input_block = {
        "type": "input",
        "label": plain("Reason"),
        "element": {"type": "plain_text_input", "action_id": "r"},
    }
    view = modal(blocks=[input_block], submit=plain("Run"), close=plain("Back"), private_metadata="c-1")

    assert validate_view(view) == []


@pytest.mark.parametrize(
    ("view", "error"),
    [
        (modal(title=plain("x" * 25)), "must be less than 25 characters [json-pointer:/view/title/text]"),
        (modal(submit=plain("x" * 25)), "must be less than 25 characters [json-pointer:/view/submit/text]"),
        (
            modal(private_metadata="x" * 3001),
            "must be less than 3001 characters [json-pointer:/view/private_metadata]",
        ),
        (
            modal(blocks=[{"type": "input", "label": plain("Why"), "element": {"type": "plain_text_input"}}]),
            "missing required field: submit [json-pointer:/view]",
        ),
        (
            modal(blocks=[{"type": "divider"}] * 101),
            "no more than 100 items allowed [json-pointer:/view/blocks]",
        ),
        (
            modal(blocks=[{"type": "markdown", "text": "**hi**"}]),
            "unsupported type: markdown [json-pointer:/view/blocks/0/type]",
        ),
        ({"type": "dialog"}, "must be one of: modal, home [json-pointer:/view/type]"),
    ],
)
def test_views_are_checked_against_the_view_limits(view: dict[str, Any], error: str) -> None:
    assert validate_view(view) == [error]


def test_views_allow_100_blocks_where_messages_allow_50() -> None:
    blocks = [{"type": "divider"}] * 100

    assert validate_view({"type": "home", "blocks": blocks}) == []
    assert validate_blocks(blocks) == ["no more than 50 items allowed [json-pointer:/blocks]"]
