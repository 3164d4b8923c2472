"""`/amd ask <question>`: a question in one's own words, answered from facts (help channels, DMs and
mentions reach the same engine through bot/surfaces/answers.py). The clarifying replies' buttons are
this command's `pick` action, so they work the same in Slack and in the console."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, Field

from bot.core.command import Action, Command, Ctx
from bot.foundation.catalog import Catalog
from bot.foundation.errors import UsageError
from bot.render.message import Message
from commands.ask.engine import picked, read, reply

PERMISSION = "ask"


class AskArgs(BaseModel):
    question: str = Field(min_length=1)


def parse(words: Sequence[str], _catalog: Catalog) -> AskArgs:
    if not words:
        raise UsageError("Ask a question, e.g. `ask is payment fresh?`.")
    return AskArgs(question=" ".join(words))


async def handle(args: AskArgs, ctx: Ctx) -> Message | None:
    question, _ = read(args.question, ctx)
    return (await reply(question, ctx, direct=True, prefix=ctx.backends.settings.command)).message


async def _pick(value: str, ctx: Ctx) -> Message | None:
    return (await picked(value, ctx, prefix=ctx.backends.settings.command)).message


command = Command(
    name="ask",
    summary="Ask about data status in your own words: incidents, freshness, runs, tests, owners, "
    "migrations, volumes.",
    usage="ask <question>",
    examples=("ask is payment fresh?", "ask who owns purchase?", "ask delivery address migration progress?"),
    parse=parse,
    handle=handle,
    permission=lambda _args: PERMISSION,
    ack=lambda _args: "Looking it up…",
    # Picking among a clarifying reply's options asks the question again: no more than asking does.
    actions={"pick": Action(_pick, permission=lambda _value: "ask.pick")},
    details="The same answers come in help channels, DMs with the bot and wherever it is @-mentioned.",
    free_text=True,
)
