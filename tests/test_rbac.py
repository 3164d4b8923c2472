"""Access control as data: the rule table decides, first match wins, and the answer names the rule."""

import re
from pathlib import Path

import pytest

from bot.core.access import Policy
from bot.core.router import Invocation, Refusal
from bot.foundation.access_rules import AccessRule
from commands import COMMANDS, migration
from tests.support.bot import BotHarness

RULES = [
    AccessRule(
        name="nobody runs prod from random channels", action="run:prod_*", channels=["C_RANDOM"], allow=False
    ),
    AccessRule(action="run:prod_*", users=["S_DATAOPS"], channels=["C_DATAOPS"]),
    AccessRule(action="run:amd_*", users=["U_ANNA", "S_DATAOPS"]),
    AccessRule(action="stats*"),
]
POLICY = Policy(RULES, admins=["U_ADMIN"], groups={"S_DATAOPS": ["U_OPS1", "U_OPS2"]})


@pytest.mark.parametrize(
    ("action", "user", "channel", "allowed", "reason"),
    [
        ("stats:payment", "U_ANYONE", "C_ANY", True, "rule #4"),
        ("run:amd_payment", "U_ANNA", "C_ANY", True, "rule #3"),
        ("run:amd_payment", "U_OPS2", "C_ANY", True, "rule #3"),  # via the user group
        ("run:amd_payment", "U_BOB", "C_ANY", False, "no rule allows"),  # denied by user
        ("run:prod_ledger", "U_OPS1", "C_DATAOPS", True, "rule #2"),
        ("run:prod_ledger", "U_OPS1", "C_OTHER", False, "no rule allows"),  # denied by channel
        ("run:prod_ledger", "U_OPS1", "C_RANDOM", False, "nobody runs prod"),  # explicit deny, named
        ("run:prod_ledger", "U_ANNA", "C_DATAOPS", False, "no rule allows"),  # denied by DAG pattern
        ("run:prod_ledger", "U_ADMIN", "C_RANDOM", True, "admin"),
        ("migration.pause:x", "U_ANNA", "C_ANY", False, "no rule allows"),
    ],
)
def test_rule_table(action: str, user: str, channel: str, allowed: bool, reason: str) -> None:
    decision = POLICY.check(action, user=user, channel=channel)
    assert decision.allowed is allowed
    assert reason in decision.reason


def test_no_rules_means_open_embedded_default() -> None:
    decision = Policy([]).check("run:anything", user="U1", channel="C1")
    assert decision.allowed
    assert decision.reason == "no access rules configured"


# --- what a grant covers: each selector atom, and reading is not controlling -------------------------


async def test_a_selector_grant_covers_the_atoms_it_names_and_no_others(bot: BotHarness) -> None:
    bot.backends.policy = Policy([AccessRule(action="test:payment*", users=["U1"])])

    assert isinstance(bot.router.prepare("test payment", user="U1", channel="C1"), Invocation)
    for text in ("test payment user delivery_address", "test payment,user", "test user payment"):
        refused = bot.router.prepare(text, user="U1", channel="C1")
        assert isinstance(refused, Refusal), text
        assert refused.outcome == "denied"
        assert "You may not `test:user` here" in refused.message.fallback


async def test_reading_migrations_does_not_grant_pausing_them(bot: BotHarness) -> None:
    name = bot.backends.settings.migrations[0].name
    bot.backends.policy = Policy([AccessRule(action="migration:*")])

    assert isinstance(bot.router.prepare(f"migration {name}", user="U1", channel="C1"), Invocation)
    refused = bot.router.prepare(f"migration {name} pause", user="U1", channel="C1")
    assert isinstance(refused, Refusal) and refused.outcome == "denied"
    for button in ("pause", "resume"):
        action = migration.command.actions[button].permission(name)
        assert not bot.backends.policy.check(action, user="U1", channel="C1").allowed, action


def test_every_button_has_its_own_action_name_and_the_readme_documents_each() -> None:
    documented = readme_action_names()
    for command in COMMANDS:
        assert command.name in documented, command.name
        for key, action in command.actions.items():
            name = action.permission("x y").split(":")[0]
            assert name == f"{command.name}.{key}", (command.name, key, name)
            assert name in documented, name
    assert {"runs", "test.freshness", "test.cancel"} <= documented


def readme_action_names() -> set[str]:
    """First column of the README's access table: `name:<object>` or `name`."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("| Action name |", 1)[1].split("\n\n", 1)[0]
    return {
        m.group(1).split(":")[0]
        for line in section.splitlines()[2:]
        for m in [re.match(r"\|\s*`([^`]+)`", line)]
        if m
    }
