"""Access control as data: the rule table decides, first match wins, and the answer names the rule."""

import pytest

from bot.core.access import Policy
from bot.foundation.settings import AccessRule

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
        ("migration:x:control", "U_ANNA", "C_ANY", False, "no rule allows"),
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
