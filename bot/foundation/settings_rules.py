"""Rules across settings: what each choice needs (every missing variable named at once), placeholder
secrets, and what Slack modes refuse to serve."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from pydantic import SecretStr


class Settings(Protocol):
    """What the rules read (bot.foundation.settings.Settings, which calls them)."""

    airflow_url: str | None
    airflow_username: str | None
    airflow_password: SecretStr | None
    composer_environment: str | None
    snowflake_account: str | None
    snowflake_user: str | None
    snowflake_password: SecretStr | None
    snowflake_private_key_file: Path | None
    snowflake_private_key: SecretStr | None
    snowflake_authenticator: str | None
    slack_bot_token: SecretStr | None
    slack_app_token: SecretStr | None
    slack_signing_secret: SecretStr | None
    migration_ingest_token: SecretStr | None
    access_open: bool

    # Read-only (properties), so the Literal and list types of the fields fit.
    @property
    def orchestrator(self) -> str: ...

    @property
    def warehouse(self) -> str: ...

    @property
    def access(self) -> Sequence[object]: ...

    @property
    def uses_demo_project(self) -> bool: ...


_PLACEHOLDERS = {"", "changeme", "change-me", "xoxb-your-token", "xapp-your-token", "your-signing-secret"}
_SLACK_SECRETS = {
    "slack_bot_token": "SLACK_BOT_TOKEN",
    "slack_app_token": "SLACK_APP_TOKEN",
    "slack_signing_secret": "SLACK_SIGNING_SECRET",
}


def problems(s: Settings) -> list[str]:
    """Every problem at once, so one start shows all there is to fix."""
    found = [*_placeholders(s)]
    if s.orchestrator == "airflow" and (
        missing := _unset(s, "airflow_url", "airflow_username", "airflow_password")
    ):
        found.append(f"AMD_ORCHESTRATOR=airflow needs {_and(missing)} (the API server and its user)")
    if s.orchestrator == "composer" and not s.composer_environment:
        found.append(
            "AMD_ORCHESTRATOR=composer needs AMD_COMPOSER_ENVIRONMENT, "
            "e.g. AMD_COMPOSER_ENVIRONMENT=projects/P/locations/L/environments/E"
        )
    # A team's own project may take the connection from its dbt profile: wiring checks it after that.
    if s.warehouse == "snowflake" and s.uses_demo_project and (missing := snowflake_missing(s)):
        found.append(f"AMD_WAREHOUSE=snowflake needs {_and(missing)}")
    if s.slack_bot_token is not None and s.slack_app_token is None and s.slack_signing_secret is None:
        found.append("SLACK_BOT_TOKEN needs SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP)")
    return found


def snowflake_missing(s: Settings) -> list[str]:
    missing = _unset(s, "snowflake_account", "snowflake_user")
    authenticated = (
        s.snowflake_password,
        s.snowflake_private_key_file,
        s.snowflake_private_key,
        s.snowflake_authenticator,
    )
    if all(way is None for way in authenticated):
        missing.append(
            "AMD_SNOWFLAKE_PASSWORD (or AMD_SNOWFLAKE_PRIVATE_KEY_FILE, or AMD_SNOWFLAKE_AUTHENTICATOR)"
        )
    return missing


def serve_refusal(s: Settings, *, http: bool) -> str | None:
    """Why Slack must not be served with these settings, or None. The console and the demo are one
    person's own tools; in Slack every member of the workspace can reach the bot."""
    needed = ["SLACK_BOT_TOKEN"] if s.slack_bot_token is None else []
    if http and s.slack_signing_secret is None:
        needed.append("SLACK_SIGNING_SECRET")
    if not http and s.slack_app_token is None:
        needed.append("SLACK_APP_TOKEN")
    if needed:
        how = "over HTTP: requests are verified with the signing secret" if http else "in Socket Mode"
        return f"serving Slack {how} needs {_and(needed)} (the Slack app's settings pages)"
    if not s.access and not s.access_open:
        return (
            "no access rules are configured (AMD_ACCESS, or [[access]] in the AMD_CONFIG file), so "
            "everyone in the workspace could do everything, production runs included. Add rules, "
            "or set AMD_ACCESS_OPEN=true (access_open = true in the config file) if that is meant"
        )
    return None


def _placeholders(s: Settings) -> list[str]:
    found = []
    token = s.migration_ingest_token
    if token is not None and (_is_placeholder(token) or len(token) < 16):
        found.append(
            "AMD_MIGRATION_INGEST_TOKEN is a placeholder or shorter than 16 characters. Expected a random "
            "secret, e.g. AMD_MIGRATION_INGEST_TOKEN=$(python -c 'import secrets; "
            "print(secrets.token_urlsafe(32))')"
        )
    if s.slack_bot_token is not None:
        for name, variable in _SLACK_SECRETS.items():
            secret: SecretStr | None = getattr(s, name)
            if secret is not None and _is_placeholder(secret):
                found.append(f"{variable} is a placeholder; set the real value or unset it")
    return found


def _is_placeholder(secret: SecretStr) -> bool:
    return secret.get_secret_value().strip().lower() in _PLACEHOLDERS


def _unset(s: Settings, *names: str) -> list[str]:
    return [f"AMD_{name.upper()}" for name in names if not getattr(s, name)]


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
