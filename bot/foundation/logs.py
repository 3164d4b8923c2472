"""Log lines: plain text for people (the console), JSON lines for a log platform (AMD_LOG_FORMAT=json),
and in both the id of the Slack request a line belongs to.

The id lives in a context variable set once per request (bot/surfaces/request_ids.py): asyncio
copies the context into every task a request starts, so the work after the ack carries it too.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Literal

from pythonjsonlogger.json import JsonFormatter

LogFormat = Literal["plain", "json"]
NO_REQUEST = "-"  # a line outside any request: start, scheduler, housekeeping
_request_id: ContextVar[str] = ContextVar("amd_request_id", default=NO_REQUEST)
PLAIN = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"


class RequestIdFilter(logging.Filter):
    """Stamps every record with the current request's id (set on the handler: it sees every logger)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


def current_request_id() -> str | None:
    found = _request_id.get()
    return None if found == NO_REQUEST else found


@contextmanager
def request_scope() -> Iterator[str]:
    """Everything logged inside, and in tasks started inside, carries one request id: the one already
    set by an outer scope (the HTTP endpoint's, around Bolt's), else a new one."""
    current = _request_id.get()
    token = _request_id.set(uuid.uuid4().hex[:16] if current == NO_REQUEST else current)
    try:
        yield _request_id.get()
    finally:
        _request_id.reset(token)


def formatter(kind: LogFormat) -> logging.Formatter:
    if kind == "json":
        return JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    return logging.Formatter(PLAIN)


def install(handlers: list[logging.Handler], *, level: int, kind: LogFormat) -> None:
    for handler in handlers:
        handler.setFormatter(formatter(kind))
        handler.addFilter(RequestIdFilter())
    logging.basicConfig(level=level, handlers=handlers, force=True)
    # A library's warning is a log line too: printed raw, it would break a JSON-lines stream.
    logging.captureWarnings(True)
