"""Command text → validated args → access check → handler → answer, and the audit record of it.

`prepare` is pure and fast (no I/O): it runs before Slack's 3-second ack. `run` and `press` do the
work afterwards and never raise: every failure becomes an answer the user can act on.
"""

from __future__ import annotations

import logging
import shlex
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from bot.core.backends import Backends
from bot.core.command import Command, Ctx
from bot.core.surface import Surface
from bot.foundation.catalog import CatalogMissing
from bot.foundation.errors import UsageError
from bot.foundation.logs import current_request_id
from bot.foundation.metrics import COMMAND_SECONDS
from bot.foundation.ports import BackendUnavailable, CardRef
from bot.foundation.suggest import unknown
from bot.render.message import Context, Message, Text, error
from bot.state.store import AuditEntry, unreachable

log = logging.getLogger(__name__)

MAX_TEXT = 1000  # no real command is longer; anything bigger is pasted by mistake (or hostile)
MAX_WORD = 200
STORE_AWAY = (
    "I cannot reach my state store just now (it is restarting, or the network is), so I did nothing. "
    "Try again in a minute."
)


@dataclass(frozen=True)
class Invocation:
    command: Command[Any]
    args: BaseModel
    action: str


@dataclass(frozen=True)
class Refusal:
    message: Message
    outcome: Literal["usage", "denied"]
    command: str


class Router:
    def __init__(self, commands: Sequence[Command[Any]], backends: Backends, *, prefix: str = "/amd") -> None:
        self.commands = {c.name: c for c in commands}
        self.backends = backends
        self.prefix = prefix

    def prepare(self, text: str, *, user: str, channel: str) -> Invocation | Refusal:
        first = text.split(maxsplit=1)[:1]
        named = self.commands.get(first[0].lower()) if first else None
        words, problem = _split(text, shell=not (named and named.free_text))
        if problem is not None:
            return self._usage(problem, None)
        if not words:
            return self._usage("Tell me what to do.", None)
        name, rest = words[0].lower(), words[1:]
        command = self.commands.get(name)
        if command is None:
            message, guess = unknown("command", words[0], self.commands)
            return self._usage(message, None, suggestion=f"{self.prefix} {guess}" if guess else None)
        try:
            args = command.parse(rest, self.backends.catalog)
        except UsageError as exc:
            return self._usage(exc.message, command, suggestion=exc.suggestion)
        except ValidationError as exc:
            return self._usage(_first_problem(exc), command)
        wanted = command.permission(args)
        actions = (wanted,) if isinstance(wanted, str) else wanted
        action, decision = self.backends.policy.check_all(actions, user=user, channel=channel)
        if not decision.allowed:
            text = f"You may not `{action}` here: {decision.reason}."
            return Refusal(error(text, hint="Ask an admin of amd-bot if you need it."), "denied", name)
        return Invocation(command, args, " ".join(actions))

    def ack_text(self, prepared: Invocation | Refusal) -> str:
        return prepared.command.ack(prepared.args) if isinstance(prepared, Invocation) else ""

    async def run(
        self, text: str, *, user: str, channel: str, surface: Surface, refusal_shown: bool = False
    ) -> None:
        """Do the command and answer. `refusal_shown`: the ack already carried a usage or access
        answer (Slack), so only the audit record remains to be written."""
        started = time.monotonic()
        prepared = self.prepare(text, user=user, channel=channel)
        ctx = Ctx(user=user, channel=channel, backends=self.backends, surface=surface, text=text)
        if isinstance(prepared, Refusal):
            if not refusal_shown:
                await surface.respond(prepared.message)
            await self._audit(ctx, prepared.command or "?", prepared.outcome, started)
            return
        outcome = await self._guarded(prepared.command.handle(prepared.args, ctx), ctx)
        await self._audit(ctx, prepared.command.name, outcome, started)

    async def press(
        self,
        action_id: str,
        value: str,
        *,
        user: str,
        channel: str,
        surface: Surface,
        clicked: CardRef | None,
        form_values: Mapping[str, Any] | None = None,
    ) -> None:
        """A button press, or a form's submission (`form_values`; the value is the form's state)."""
        started = time.monotonic()
        ctx = Ctx(user=user, channel=channel, backends=self.backends, surface=surface, clicked=clicked)
        ctx.form_values = form_values
        ctx.text = f"[{'form' if form_values is not None else 'button'} {action_id}]"
        name, _, key = action_id.partition(".")
        command = self.commands.get(name)
        action = command.actions.get(key) if command else None
        if command is None or action is None:
            await surface.respond(
                error("That button is from an older version of amd-bot; run the command again.")
            )
            await self._audit(ctx, name or "?", "usage", started)
            return
        decision = self.backends.policy.check(action.permission(value), user=user, channel=channel)
        if not decision.allowed:
            await surface.respond(error(f"You may not do that here: {decision.reason}."))
            await self._audit(ctx, name, "denied", started)
            return
        outcome = await self._guarded(action.handle(value, ctx), ctx)
        await self._audit(ctx, name, "action" if outcome == "ok" else outcome, started)

    async def _guarded(self, work: Any, ctx: Ctx) -> str:
        try:
            answer: Message | None = await work
        except UsageError as exc:
            await ctx.surface.respond(error(exc.message))
            return "usage"
        except (BackendUnavailable, CatalogMissing) as exc:
            await ctx.surface.respond(error(str(exc)))
            return "error"
        except Exception as exc:
            if unreachable(exc):
                log.warning("state store unreachable (%s): answered %r with try again", _brief(exc), ctx.text)
                await ctx.surface.respond(error(STORE_AWAY))
                return "unavailable"
            # The request's id when there is one: it finds every log line of this request.
            reference = current_request_id() or uuid.uuid4().hex[:8]
            log.exception("command failed (reference %s): %r", reference, ctx.text)
            await ctx.surface.respond(error(f"Something went wrong on my side (reference `{reference}`)."))
            return "error"
        if answer is not None:
            await ctx.surface.respond(answer)
        return "ok"

    def _usage(self, problem: str, command: Command[Any] | None, *, suggestion: str | None = None) -> Refusal:
        if command is None:
            names = ", ".join(f"`{n}`" for n in self.commands)
            hint = f"Commands: {names}. `{self.prefix} help` explains them."
        else:
            hint = (
                f"Usage: `{self.prefix} {command.usage}` · `{self.prefix} help {command.name}` for examples"
            )
        parts: list[Any] = [Text(f":warning: {problem}")]
        if suggestion and not problem.endswith("?"):
            parts.append(Text(f"Did you mean `{suggestion}`?"))
        parts.append(Context((hint,)))
        return Refusal(Message(tuple(parts), fallback=problem), "usage", command.name if command else "")

    async def _audit(self, ctx: Ctx, command: str, outcome: str, started: float) -> None:
        elapsed = time.monotonic() - started
        # A button's action_id names its command: one from elsewhere must not add a label value.
        COMMAND_SECONDS.labels(command if command in self.commands else "?", outcome).observe(elapsed)
        entry = AuditEntry(
            at=datetime.now(UTC),
            user_id=ctx.user,
            channel_id=ctx.channel,
            command=command,
            text=ctx.text[:MAX_TEXT],
            outcome=outcome,
            duration_ms=int(elapsed * 1000),
            detail=ctx.audit_detail,
        )
        try:
            await self.backends.state.record_audit(entry)
        except Exception as exc:
            # The answer already went out; a state store hiccup must not turn it into an error.
            if unreachable(exc):
                log.warning("audit record for %s not written: state store away (%s)", command, _brief(exc))
            else:
                log.exception("could not write the audit record for %s", command)


def _split(text: str, *, shell: bool = True) -> tuple[list[str], str | None]:
    """Words as a shell splits them (quotes group), or at spaces for a command of free text, where
    an apostrophe ("what's") is no quote."""
    if len(text) > MAX_TEXT:
        return [], f"That is {len(text):,} characters; commands are short (at most {MAX_TEXT})."
    if any((ord(c) < 32 and c not in "\t\n\r") or ord(c) == 127 for c in text):
        return [], "The command contains control characters; type it plainly."
    try:
        words = shlex.split(text.strip()) if shell else text.split()
    except ValueError:
        return [], "Unbalanced quotes in the command."
    if any(len(w) > MAX_WORD for w in words):
        return [], f"One of the words is over {MAX_WORD} characters; names are shorter than that."
    # Slack people write names as code: "/amd stats `payment`" names payment.
    return [w.strip("`") if len(w) > 2 and w[0] == w[-1] == "`" else w for w in words], None


def _brief(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


def _first_problem(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "__root__")
    return f"{where}: {first['msg']}" if where else str(first["msg"])
