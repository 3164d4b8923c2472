"""What the asker may read: each fact checks the action its command would need (README, access table),
so an answer never reaches further than `/amd stats|run status|test|alerts|migration` would for them.
A question about one subject they may not read is refused naming the rule; an answer about everything
covers what they may read and says how many subjects it left out."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from bot.core.command import Ctx
from bot.foundation.catalog import Entity

T = TypeVar("T")


@dataclass(frozen=True)
class Refused:
    action: str
    reason: str

    @property
    def text(self) -> str:
        return (
            f":no_entry: You may not read that: `{self.action}` is not allowed for you here ({self.reason})."
        )


def refused(ctx: Ctx, actions: Iterable[str]) -> Refused | None:
    """The first action of `actions` the asker may not do here, and the rule that decided."""
    for action in actions:
        decision = ctx.backends.policy.check(action, user=ctx.user, channel=ctx.channel)
        if not decision.allowed:
            return Refused(action, decision.reason)
    return None


def may(ctx: Ctx, action: str) -> bool:
    return ctx.backends.policy.check(action, user=ctx.user, channel=ctx.channel).allowed


def readable(ctx: Ctx, items: Sequence[T], action: Callable[[T], str]) -> tuple[list[T], int]:
    """The items the asker may read (each by its own action), and how many were left out."""
    kept = [item for item in items if may(ctx, action(item))]
    return kept, len(items) - len(kept)


def left_out(count: int) -> tuple[str, ...]:
    """The line an answer about everything ends with when it left subjects out (none when it did not)."""
    if not count:
        return ()
    return (f"_{count} subject{'s' if count != 1 else ''} you may not read left out._",)


def stats_of(entity: Entity) -> str:
    return f"stats:{entity.name}"


def test_of(entity: Entity) -> str:
    return f"test:{entity.name}"


def alerts_of(entity: str | None, owner: str | None) -> str:
    return f"alerts:{entity or owner or '*'}"
