"""Errors every layer may raise and the router knows how to answer."""

from __future__ import annotations


class UsageError(Exception):
    """Bad input: answered with the message, a suggestion and the command's usage, never a traceback."""

    def __init__(self, message: str, *, suggestion: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.suggestion = suggestion


class ProjectError(Exception):
    """The dbt project cannot be used as configured; the message says what to change."""
