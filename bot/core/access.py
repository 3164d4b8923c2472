"""Access control as data: ordered rules from config, first match wins, checked only by the router.

An action names what is attempted: `<name>:<object>`, e.g. `stats:payment`, `run:amd_payment`,
`migration.pause:dah`. Every button has a name of its own (`<command>.<button>`), so a grant of
`migration:*` (reading) never matches `migration.pause:*` (control). A request that touches several
objects (a dbt selector's atoms) is several actions, and every one must be allowed.
With no rules configured everything is allowed (the embedded default); once any rule exists,
anything no rule allows is denied, and the answer names the rule that decided.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

from bot.foundation.access_rules import AccessRule


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str


class Policy:
    def __init__(
        self,
        rules: Sequence[AccessRule],
        admins: Sequence[str] = (),
        groups: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.rules = tuple(rules)
        self.admins = frozenset(admins)
        self.groups = {name: frozenset(members) for name, members in (groups or {}).items()}

    def is_admin(self, user: str) -> bool:
        return user in self.admins

    def check(self, action: str, *, user: str, channel: str) -> Decision:
        if user in self.admins:
            return Decision(True, "admin")
        if not self.rules:
            return Decision(True, "no access rules configured")
        for index, rule in enumerate(self.rules, start=1):
            if self._matches(rule, action, user, channel):
                label = rule.name or f"rule #{index} ({'allow' if rule.allow else 'deny'} `{rule.action}`)"
                return Decision(rule.allow, label)
        return Decision(False, f"no rule allows `{action}` for you in this channel")

    def check_all(self, actions: Sequence[str], *, user: str, channel: str) -> tuple[str, Decision]:
        """The first action refused and why, else the last one allowed: all or nothing."""
        decided = ("", Decision(False, "nothing to check"))
        for action in actions:
            decided = (action, self.check(action, user=user, channel=channel))
            if not decided[1].allowed:
                break
        return decided

    def _matches(self, rule: AccessRule, action: str, user: str, channel: str) -> bool:
        return (
            fnmatchcase(action, rule.action)
            and any(self._is(user, who) for who in rule.users)
            and any(fnmatchcase(channel, where) for where in rule.channels)
        )

    def _is(self, user: str, who: str) -> bool:
        return who == "*" or who == user or user in self.groups.get(who, ())
