"""The renderers: one Message, two faces. Slack's limits are enforced by bot/render/slack.py alone."""

import re
from pathlib import Path

import pytest

from bot.render import format as fmt
from bot.render.console import plain, to_text
from bot.render.message import (
    Actions,
    Button,
    Code,
    Context,
    Divider,
    Fields,
    Header,
    Image,
    Message,
    Table,
    Text,
)
from bot.render.slack import MAX_BLOCKS, MAX_SECTION_TEXT, parse_action_id, to_blocks
from bot.render.terminal import to_ansi
from tests.support.golden import assert_golden

CARD = Message(
    (
        Header("Run amd_payment"),
        Text("*State:* running · <https://airflow.example/dags/amd_payment|Open in Airflow> · owner <@U123>"),
        Fields((("DAG", "`amd_payment`"), ("Requested by", "<@U1>"))),
        Table(("task", "state"), (("stg_payments", "success"), ("payment", "running")), frozenset()),
        Code("select 1", title="SQL"),
        Image(Path("/tmp/chart.png"), "payment volume", "chart"),
        Context(("as of 2026-11-26 08:00 UTC",)),
        Divider(),
        Actions(
            (
                Button("Trigger", "run.trigger", "c-1", style="primary"),
                Button("Cancel", "run.cancel", "c-1"),
                Button("Open in Airflow", "", url="https://airflow.example/x"),
            )
        ),
    ),
    fallback="Run amd_payment: running",
)


def test_card_blocks_are_pinned() -> None:
    assert_golden("render_card_blocks.json", to_blocks(CARD))


def test_card_console_text_is_pinned() -> None:
    assert_golden("render_card_console.json", to_text(CARD).splitlines())


def test_buttons_are_numbered_in_console_and_unique_in_slack() -> None:
    text = to_text(CARD)
    assert "[1] Trigger  [2] Cancel  [Open in Airflow: https://airflow.example/x]" in text
    ids = [e["action_id"] for b in to_blocks(CARD) if b["type"] == "actions" for e in b["elements"]]
    assert len(ids) == len(set(ids))
    assert parse_action_id(ids[0]) == "run.trigger"


def test_a_huge_message_stays_within_slack_limits(slack_blocks_validator) -> None:
    many = Message(
        (
            Header("x" * 500),
            *(Text(f"line {i} " + "y" * 100) for i in range(200)),
            Table(("n",), tuple((str(i),) for i in range(5000))),
            Actions(tuple(Button(f"b{i}" * 40, "test.rows", "v" * 5000) for i in range(40))),
        ),
        fallback="z" * 50_000,
    )
    blocks = to_blocks(many)
    assert len(blocks) <= MAX_BLOCKS
    assert blocks[-1]["type"] == "context" and "more parts not shown" in blocks[-1]["elements"][0]["text"]
    assert slack_blocks_validator(blocks) == []


def test_a_long_table_is_cut_with_a_visible_count() -> None:
    blocks = to_blocks(Message((Table(("n",), tuple((str(i),) for i in range(5000))),), fallback="t"))
    text = blocks[0]["text"]["text"]
    assert len(text) <= MAX_SECTION_TEXT
    assert text.endswith("… 5000 rows in all")


def test_console_turns_slack_markup_into_plain_text() -> None:
    assert (
        plain("*bold* <@U1> <!subteam^S9> <https://x.y/z|link> :white_check_mark:")
        == "bold @U1 @S9 link (https://x.y/z) ✓"
    )


def test_console_drops_italic_markers_but_not_underscores_in_names() -> None:
    assert plain("_…and 3 more._ see `amd_payment`") == "…and 3 more. see `amd_payment`"


def test_a_terminal_gets_styles_instead_of_slack_markup() -> None:
    styled = to_ansi(CARD, width=100)
    shown = re.sub(r"\x1b\[[0-9;]*m", "", styled)

    assert "\x1b[1;4mRun amd_payment\x1b[0m" in styled  # a bold, underlined header
    assert "\x1b[1mState:\x1b[0m running" in styled  # *State:* is bold, without its asterisks
    assert "\x1b[36mamd_payment\x1b[0m" in styled  # `code` is coloured, without its backticks
    assert "Open in Airflow (https://airflow.example/dags/amd_payment)" in shown  # a link as text
    assert "[1] Trigger  [2] Cancel  Open in Airflow: https://airflow.example/x" in shown  # same numbers
    assert re.search(r"stg_payments +success", shown)  # a table, its columns aligned
    marks = to_ansi(Message((Text(":white_check_mark: ok · :x: failed · :warning: late"),), fallback=""))
    assert marks == "\x1b[1;32m✓\x1b[0m ok · \x1b[1;31m✗\x1b[0m failed · \x1b[1;33m⚠\x1b[0m late"


@pytest.mark.parametrize(
    ("message", "why"),
    [
        (  # DuckDB: the reason, then a guess and the query line with a caret under it
            "Runtime Error in test not_null_vessels_vessel_id (models/schema.yml)\n"
            "  Catalog Error: Table with name vessels does not exist!\n"
            '  Did you mean "pg_views"?\n\n  LINE 12: from "harbour"."main"."vessels"\n                ^',
            "Catalog Error: Table with name vessels does not exist!",
        ),
        (  # Snowflake: the reason last
            "Database Error in test unique_payment_id (models/_entities.yml)\n"
            "  002003 (42S02): SQL compilation error:\n"
            "  Object 'AMD.PAYMENT' does not exist or not authorized.",
            "Object 'AMD.PAYMENT' does not exist or not authorized.",
        ),
        (  # PostgreSQL: the reason first, then the query line, its caret and a hint
            'ERROR:  column "x" does not exist\nLINE 1: select x from t\n               ^\nHINT:  Perhaps y',
            'ERROR:  column "x" does not exist',
        ),
        (None, "see the dbt log"),
        ("  \n ^^^ \n", "see the dbt log"),
    ],
)
def test_an_error_is_told_by_the_line_that_says_why(message: str | None, why: str) -> None:
    assert fmt.reason(message) == why
