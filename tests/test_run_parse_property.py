"""Whatever follows `/amd run`, the router answers with a refusal or a validated invocation, never a
traceback: the parse runs before Slack's ack, on text anyone in the workspace can type."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

import commands
from bot.core.router import Invocation, Refusal, Router
from bot.foundation.settings import Settings
from bot.wiring import build_backends
from commands.run.args import CONF_KEY, MAX_CONF_BYTES, MAX_CONF_KEYS, RunArgs


@pytest.fixture(scope="module")
async def router(demo_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Router]:
    state = tmp_path_factory.mktemp("run-parse") / "state.db"
    backends = await build_backends(
        demo_settings.model_copy(update={"state_url": SecretStr(f"sqlite+aiosqlite:///{state}")})
    )
    yield Router(commands.COMMANDS, backends)
    await backends.close()


TARGETS = st.sampled_from(
    ["user", "payment", "PAYMENT", "amd_payment", "amd_ok", "paymnt", "status", "-x", ""]
)
KEYS = st.one_of(st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,70}", fullmatch=True), st.text(max_size=12))
VALUES = st.one_of(
    st.text(max_size=40),
    st.integers().map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(
        ["true", "FALSE", "1e999", "-0", "+7", "12345678901234567890", "'quoted value'", '"', "\\"]
    ),
)
DATES = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.text(max_size=12),
    st.sampled_from(["2999-01-01", "2026-02-30"]),
)
WORDS = st.one_of(
    st.builds(lambda k, v: f"{k}={v}", KEYS, VALUES),
    st.builds(lambda d: f"--date {d}", DATES),
    st.builds(lambda d: f"--date={d}", DATES),
    st.text(max_size=20),
)
COMMANDS = st.one_of(
    st.text(max_size=300),
    st.builds(lambda t, ws: " ".join([t, *ws]), TARGETS, st.lists(WORDS, max_size=25)),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=COMMANDS)
def test_prepare_refuses_or_returns_valid_bounded_args(router: Router, text: str) -> None:
    prepared = router.prepare("run " + text, user="U1", channel="C1")

    assert isinstance(prepared, Refusal | Invocation)
    event(type(prepared).__name__)  # --hypothesis-show-statistics: both answers must be reached
    if isinstance(prepared, Refusal):
        assert prepared.outcome == "usage"  # no access rules configured: only input can be refused
        assert prepared.message.fallback
        assert "Value error" not in prepared.message.fallback  # every refusal is in the bot's own words
        return
    args = prepared.args
    assert isinstance(args, RunArgs)
    assert RunArgs.model_validate(args.model_dump()) == args
    assert len(args.conf) <= MAX_CONF_KEYS
    assert all(CONF_KEY.fullmatch(key) for key in args.conf)
    assert len(json.dumps(args.conf, ensure_ascii=False).encode()) <= MAX_CONF_BYTES
    assert all(type(v) in (bool, int, float, str) for v in args.conf.values())
    if args.logical_date is not None:
        assert args.logical_date <= datetime.now(UTC).date()  # Airflow's dates are UTC
    expected = f"run:{args.dag}" if args.mode == "trigger" else f"runs:{args.dag or '*'}"
    assert prepared.action == expected
