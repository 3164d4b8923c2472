"""A failed test's buttons on a `/amd test` card: its failing rows and its compiled SQL, from what
the run stored (bot/state/results.py), answered in the card's thread."""

from __future__ import annotations

from bot.core.command import Ctx
from bot.foundation.ports import BackendUnavailable, Rows
from bot.render.message import Code, Message, Table, Text, note
from bot.state.results import StoredTest, TestResults

SAMPLE_ROWS = 10


# A button's answer replaces the card it is on (bot/surfaces/bolt.py), so these answer in the card's thread
# and return None: the card with its other buttons stays.


async def show_rows(value: str, ctx: Ctx) -> Message | None:
    test = await stored(value, ctx)
    if test is None or test.failures_relation is None:
        await reply_in_thread(ctx, note("The failing rows of that test are not stored; run the tests again."))
        return None
    try:
        rows = await ctx.backends.warehouse.sample_rows(test.failures_relation, SAMPLE_ROWS)
    except BackendUnavailable as exc:
        await reply_in_thread(ctx, note(f":warning: {exc}"))
        return None
    await reply_in_thread(ctx, rows_card(test.name, rows, SAMPLE_ROWS))
    return None


async def show_sql(value: str, ctx: Ctx) -> Message | None:
    test = await stored(value, ctx)
    if test is None or not test.compiled_code:
        message = note("The compiled SQL of that test is not stored; run the tests again.")
    else:
        message = sql_card(test.name, test.compiled_code)
    await reply_in_thread(ctx, message)
    return None


async def stored(value: str, ctx: Ctx) -> StoredTest | None:
    run_key, _, unique_id = value.partition(" ")
    return await TestResults(ctx.backends.state.engine).result(run_key, unique_id)


async def reply_in_thread(ctx: Ctx, message: Message) -> None:
    if ctx.clicked is None:
        await ctx.surface.post(message)
    else:
        await ctx.surface.post(message, channel=ctx.clicked.channel, thread=ctx.clicked)


def rows_card(test_name: str, rows: Rows, limit: int) -> Message:
    table = Table(rows.columns, tuple(tuple(_cell(v) for v in row) for row in rows.rows))
    more = "" if len(rows.rows) < limit else f" (first {limit})"
    return Message(
        (Text(f"Failing rows of `{test_name}`{more}:"), table),
        fallback=f"failing rows of {test_name}",
        public=True,
    )


def sql_card(test_name: str, compiled_code: str) -> Message:
    return Message(
        (Code(compiled_code.strip(), title=f"Compiled SQL of {test_name}"),),
        fallback=f"SQL of {test_name}",
        public=True,
    )


def _cell(value: object) -> str:
    return "∅" if value is None else str(value)[:60]
