"""The local console: the same router and handlers as Slack, answers rendered as text.

A message's buttons are numbered; typing `N` presses button N of the latest message with buttons.
A card that changes is printed once; each later change prints only the lines that are new (a
terminal cannot update a message in place above a prompt without repainting the screen).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bot.core import cards
from bot.core.command import Command, Ctx
from bot.core.router import Router
from bot.foundation.logs import request_scope
from bot.foundation.ports import CardRef
from bot.render.console import to_text
from bot.render.form import Form
from bot.render.message import Button, Message, Text, error
from bot.scheduler import live_kinds
from bot.state.answers import Asked
from bot.surfaces.console_form import FormQuestions
from commands.ask.engine import read, reply

log = logging.getLogger(__name__)

Render = Callable[[Message], str]


# what the console says where Slack would show nothing: a thank-you to the bot, or chatter it leaves alone
_THANKED = (
    "(no reply: a thank-you, a greeting, a remark or a question about nothing the bot knows needs none)\n"
)
_CHATTER = "(no reply: in a help channel the bot answers questions it can; `@amd …` asks it)\n"


class ConsoleSurface:
    """`quiet`: a live card is printed when posted and when it settles, not at every change."""

    def __init__(
        self,
        write: Callable[[str], None],
        channel: str = "console",
        *,
        render: Render = to_text,
        quiet: bool = False,
    ) -> None:
        self.write = write
        self.channel = channel
        self.render = render
        self.quiet = quiet
        self._counter = 0
        self._shown: dict[str, list[str]] = {}  # card ts -> its lines as last printed
        self.buttons: list[tuple[Button, CardRef]] = []  # of the latest message that had any
        self.form: FormQuestions | None = None  # the form being asked, one input at a time

    def _show(self, message: Message, ref: CardRef, prefix: str, *, changes_only: bool = False) -> None:
        lines = self.render(message).splitlines()
        if message.buttons():
            self.buttons = [(b, ref) for b in message.buttons()]
        before = self._shown.get(ref.ts)
        self._shown[ref.ts] = lines
        if changes_only and before is not None:
            lines = [line for line in lines if line not in before]
        if lines:
            self.write("\n".join(prefix + line if line else line for line in lines) + "\n")

    def _ref(self, channel: str | None) -> CardRef:
        self._counter += 1
        return CardRef(channel or self.channel, str(self._counter))

    async def respond(self, message: Message) -> None:
        self._show(message, self._ref(None), "")

    async def post(
        self, message: Message, *, channel: str | None = None, thread: CardRef | None = None
    ) -> CardRef:
        ref = self._ref(channel)
        self._show(message, ref, f"  ↳ (thread of #{thread.ts}) " if thread else f"[#{ref.ts}] ")
        return ref

    async def update(self, ref: CardRef, message: Message) -> None:
        if self.quiet and message.live:
            return
        self._show(message, ref, f"[#{ref.ts} ↻] ", changes_only=not self.quiet)

    async def open_form(self, form: Form) -> bool:
        self.form = FormQuestions(form)
        if form.intro:
            self.write(self.render(Message((Text(form.intro),), fallback=form.title)) + "\n")
        self.write(
            f"{form.title} (Enter keeps [the value]; a command leaves the form)\n{self.form.question()}"
        )
        return True

    async def answer_form(self, problems: Mapping[str, str]) -> None:
        if self.form is None:
            return
        if not problems:
            self.form = None
            return
        names = {i.name: i.label for i in self.form.form.inputs}
        self.write("".join(f"⚠ {names.get(n, n)}: {p}\n" for n, p in problems.items()))
        self.form.again(problems)
        self.write(self.form.question())


def meant_command(line: str, prefix: str, names: Sequence[str]) -> str | None:
    """The command a line typed without its slash means: `amd stats`, or a subcommand's name first
    (`stats payment`) unless it is asked as a question (`test results for payment?`)."""
    words = line.split()
    if not words:
        return None
    first = words[0].lower()
    if first == prefix.lstrip("/").lower():
        return " ".join([prefix, *words[1:]])
    if first in names and not line.rstrip().endswith("?"):
        return " ".join([prefix, *words])
    return None


class Console:
    def __init__(
        self,
        router: Router,
        commands: Sequence[Command[Any]],
        *,
        user: str,
        channel: str,
        write: Callable[[str], None] | None = None,
        render: Render = to_text,
        quiet: bool = False,
    ) -> None:
        self.router = router
        self.backends = router.backends
        self.commands = commands
        self.kinds = live_kinds(commands)
        self.user = user
        self.surface = ConsoleSurface(
            write or (lambda text: print(text, end="", flush=True)), channel, render=render, quiet=quiet
        )
        self.asked: Asked | None = None  # the console is one thread: a follow-up continues the last answer

    async def execute(self, line: str) -> None:
        with request_scope():  # the log lines of one typed command share an id, as a Slack request's
            await self._execute(line)

    async def _execute(self, line: str) -> None:
        line = line.strip()
        form = self.surface.form
        if form is not None and not line.startswith("/"):
            await self._answer(form, line)
            return
        self.surface.form = None  # a command instead of an answer leaves the form
        if line.isdigit():
            await self.press(int(line))
            return
        if not line.startswith("/"):
            if meant := meant_command(line, self.backends.settings.command, [c.name for c in self.commands]):
                # Answering it as a question would answer a different question ("amd stats" read
                # as one about DAG runs); running it unasked could start something.
                hint = "Commands start with a slash; anything else is asked as in a help channel."
                await self.surface.respond(error(f"Did you mean `{meant}`?", hint=hint))
                return
            await self.ask(line)
            return
        prefix = self.backends.settings.command
        text = line[len(prefix) :] if line.startswith(prefix) else line
        prepared = self.router.prepare(text, user=self.user, channel=self.surface.channel)
        ack = self.router.ack_text(prepared)
        if ack:  # rendered like any answer: its `code` spans are styled in a terminal
            self.surface.write(self.surface.render(Message((Text(f"… {ack}"),), fallback=ack)) + "\n")
        await self.router.run(text, user=self.user, channel=self.surface.channel, surface=self.surface)

    async def _answer(self, form: FormQuestions, line: str) -> None:
        problem = form.answer(line)
        if problem is not None:
            self.surface.write(f"⚠ {problem}\n{form.question()}")
        elif not form.done:
            self.surface.write(form.question())
        else:
            await self.router.press(
                form.form.submit_action,
                form.form.state,
                user=self.user,
                channel=self.surface.channel,
                surface=self.surface,
                clicked=None,
                form_values=dict(form.values),
            )

    async def ask(self, line: str) -> None:
        """A message posted in a help channel; `@amd …` mentions the bot, which then replies to any question
        or request about what it knows, or about itself (commands/ask/about.no_reply)."""
        ctx = Ctx(user=self.user, channel=self.surface.channel, backends=self.backends, surface=self.surface)
        question, mentioned = read(line, ctx, thread=self.asked)
        prefix = self.backends.settings.command
        answered = await reply(question, ctx, direct=mentioned, prefix=prefix, in_channel=True)
        if answered.message is None:
            self.surface.write(_THANKED if mentioned else _CHATTER)
            return
        await self.surface.respond(answered.message)
        self.asked = answered.asked or self.asked

    async def press(self, number: int) -> None:
        if not 1 <= number <= len(self.surface.buttons):
            await self.surface.respond(error(f"There is no button {number} to press."))
            return
        button, ref = self.surface.buttons[number - 1]
        self.surface.write(f"(pressed [{number}] {button.label})\n")
        await self.router.press(
            button.action,
            button.value,
            user=self.user,
            channel=self.surface.channel,
            surface=self.surface,
            clicked=ref,
        )

    async def follow(self, wait_s: float, *, interval_s: float = 1.0) -> bool:
        """Keep refreshing live cards until they settle or `wait_s` passes; True if all settled."""
        deadline = time.monotonic() + wait_s
        while True:
            await cards.tick(self.backends, self.surface, self.kinds)
            if not await cards.unsettled(self.backends):
                return True
            if time.monotonic() >= deadline:
                self.surface.write(f"(still changing after {wait_s:g} s; stopped following)\n")
                return False
            await asyncio.sleep(interval_s)

    async def keep_live(self, interval_s: float) -> None:
        """Refresh live cards until cancelled: what the scheduler does for Slack, for an open console."""
        while True:
            try:
                await cards.tick(self.backends, self.surface, self.kinds)
            except Exception:
                # A state store hiccup must not end the console; the next tick retries.
                log.exception("refreshing the console's live cards failed")
            await asyncio.sleep(interval_s)
