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


class ConfigError(Exception):
    """The settings cannot be used: each problem names the setting as the user wrote it, the format it
    expects and an example. Every entry point ends with exit code 2 and these lines, never a traceback."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems
