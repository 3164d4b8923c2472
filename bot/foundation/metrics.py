"""What /metrics serves, on prometheus-client's registry of this process: each replica is scraped on
its own, so no multi-process aggregation is needed.

The metrics are recorded where every request or call passes anyway: a Bolt middleware (acks, over
HTTP and Socket Mode), the router (commands), a wrapper around each port built in bot/wiring.py
(backend calls), the state store's engine, the Slack clients' retry handlers (Web API calls and 429s)
and the scheduler.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import event
from sqlalchemy.engine import Engine

from bot.foundation.ports import BackendUnavailable, RunAlreadyExists

# Slack's ack deadline is 3 s: the buckets are dense below it.
_ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)
# Commands and backend calls range from a cached answer (ms) to a dbt test run (minutes).
_WORK_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 180.0, 600.0)
_LAG_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 30.0, 60.0, 300.0)

ACK_SECONDS = Histogram(
    "amd_ack_seconds",
    "From a Slack request's arrival to its ack, by kind (command, block_actions, event_callback).",
    ["kind"],
    buckets=_ACK_BUCKETS,
)
COMMAND_SECONDS = Histogram(
    "amd_command_seconds",
    "Commands and button presses handled, by command and outcome, and the time each took.",
    ["command", "outcome"],
    buckets=_WORK_BUCKETS,
)
BACKEND_SECONDS = Histogram(
    "amd_backend_call_seconds",
    "Calls to outside systems (warehouse, orchestrator, dbt, state) by call and outcome.",
    ["system", "call", "outcome"],
    buckets=_WORK_BUCKETS,
)
SLACK_CALLS = Counter(
    "amd_slack_api_calls",
    "HTTP attempts to Slack (Web API methods, and response_url), by method and HTTP status.",
    ["method", "status"],
)
SLACK_RATE_LIMITED = Counter(
    "amd_slack_rate_limited", "Slack's 429 answers (Retry-After), by method.", ["method"]
)
ALERT_DELIVERY_FAILURES = Counter(
    "amd_alert_delivery_failures",
    "Alert posts, edits and thread lines that did not reach Slack, by Slack's error (or `unsure`).",
    ["reason"],
)
SCHEDULER_LAG = Histogram(
    "amd_scheduler_lag_seconds",
    "How late a scheduled job started after the time it was scheduled for, by job.",
    ["job"],
    buckets=_LAG_BUCKETS,
)
LIVE_CARDS = Gauge("amd_live_cards", "Live cards not settled yet in the state store, by kind.", ["kind"])

_STATEMENTS = frozenset({"SELECT", "INSERT", "UPDATE", "DELETE", "WITH"})


def outcome_of(exc: BaseException | None) -> str:
    """A bounded label for how a call ended: the exception's class name would be unbounded."""
    if exc is None:
        return "ok"
    if isinstance(exc, RunAlreadyExists):
        return "exists"
    if isinstance(exc, BackendUnavailable):
        return "unavailable"
    if isinstance(exc, TimeoutError):
        return "timeout"
    if not isinstance(exc, Exception):
        return "cancelled"
    return "error"


def meter_engine(engine: Engine) -> None:
    """Every statement the state store runs, timed as a `state` backend call by its verb. The start
    time rides on the statement's own execution context, so a cancelled statement leaves nothing."""

    def before(_conn: Any, _cursor: Any, _statement: str, _params: Any, context: Any, _many: bool) -> None:
        context.amd_started = time.perf_counter()

    def after(_conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool) -> None:
        _observe_statement(context, statement, "ok")

    def failed(exception_context: Any) -> None:
        context = exception_context.execution_context
        if context is not None and hasattr(context, "amd_started"):
            _observe_statement(context, exception_context.statement or "", "error")

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    event.listen(engine, "handle_error", failed)


def _observe_statement(context: Any, statement: str, outcome: str) -> None:
    verb = statement.lstrip().split(" ", 1)[0].upper()
    call = verb if verb in _STATEMENTS else "other"
    BACKEND_SECONDS.labels("state", call, outcome).observe(time.perf_counter() - context.amd_started)


def set_live_cards(kinds: Sequence[str]) -> None:
    LIVE_CARDS.clear()
    for kind in sorted(set(kinds)):
        LIVE_CARDS.labels(kind).set(kinds.count(kind))
