"""Typed settings, read once at start from the environment, `.env` and an optional TOML file.

Slack's own variables keep their conventional names (SLACK_BOT_TOKEN, ...); everything else is AMD_*.
Nothing else in the code reads os.environ. Lists and mappings are written as text by their type
(settings_values); `settings_load.load` turns every mistake into words (exit 2, never a traceback).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal, Self

from pydantic import AliasChoices, Field, SecretStr, model_validator

from bot.foundation.access_rules import AccessRule
from bot.foundation.alert_routes import AlertRoute, default_routes
from bot.foundation.logs import LogFormat
from bot.foundation.migration_specs import MigrationSpec, default_migrations
from bot.foundation.settings_rules import problems, serve_refusal
from bot.foundation.settings_sources import SourcedSettings

DEMO_DIR = Path(__file__).resolve().parents[2] / "demo"


def _default_home() -> Path:
    # The per-user data directory (XDG) is the sensible default for a tool run by a person.
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "amd-bot"


class Settings(SourcedSettings):
    """Every setting, typed; how they are read is SourcedSettings' (settings_sources)."""

    # Slack
    slack_bot_token: SecretStr | None = Field(None, validation_alias=AliasChoices("SLACK_BOT_TOKEN"))
    slack_app_token: SecretStr | None = Field(None, validation_alias=AliasChoices("SLACK_APP_TOKEN"))
    slack_signing_secret: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SLACK_SIGNING_SECRET")
    )
    slack_api_url: str = Field("https://slack.com/api/", validation_alias=AliasChoices("SLACK_API_URL"))
    slack_timeout_s: int = Field(30, ge=1)  # one Web API or response_url request
    command: str = "/amd"

    home: Path = Field(default_factory=_default_home, validation_alias=AliasChoices("AMD_HOME"))

    # Warehouse
    warehouse: Literal["duckdb", "snowflake"] = "duckdb"
    duckdb_path: Path | None = None  # default: $AMD_HOME/demo/warehouse.duckdb
    snowflake_account: str | None = None
    snowflake_user: str | None = None
    snowflake_password: SecretStr | None = None
    snowflake_private_key_file: Path | None = None
    snowflake_private_key_file_pwd: SecretStr | None = None
    snowflake_private_key: SecretStr | None = None  # PEM or base64 DER text, as dbt profiles allow
    snowflake_authenticator: str | None = None  # e.g. externalbrowser; key-pair implies SNOWFLAKE_JWT
    snowflake_role: str | None = None
    snowflake_warehouse: str | None = None
    snowflake_database: str | None = None
    snowflake_schema: str | None = None
    snowflake_host: str | None = None  # only for emulators and private links
    snowflake_port: int | None = None
    snowflake_protocol: Literal["https", "http"] = "https"
    snowflake_query_tag: str = "amd-bot"
    snowflake_statement_timeout_s: int = 120  # server side: Snowflake cancels longer statements
    snowflake_network_timeout_s: int = Field(60, ge=1)  # client side: login and each request
    duckdb_timeout_s: float = Field(60.0, gt=0)  # a demo-warehouse query is interrupted after this
    stats_cache_ttl_s: float = 300.0

    # Orchestrator
    orchestrator: Literal["local", "airflow", "composer"] = "local"
    airflow_url: str | None = None
    airflow_username: str | None = None
    airflow_password: SecretStr | None = None
    composer_environment: str | None = Field(
        None,
        pattern=r"^projects/[^/]+/locations/[^/]+/environments/[^/]+$",
        examples=["projects/acme-data/locations/europe-west1/environments/prod"],
    )
    # The Composer API's endpoint, only for private endpoints and local stand-ins; unset: Google's own.
    composer_api_endpoint: str | None = Field(
        None, pattern=r"^https?://[^/\s]+$", examples=["https://composer.googleapis.com"]
    )
    airflow_timeout_s: float = Field(30.0, gt=0)  # one Airflow REST request (Airflow and Composer)
    composer_timeout_s: float = Field(30.0, gt=0)  # reading the environment from the Composer API
    poll_interval_s: float = 5.0
    # The fewest seconds between two updates of one live card: ~10/min, of chat.update's ~50/min per
    # workspace (Tier 3) that every card shares.
    card_min_interval_s: float = Field(6.0, ge=0)
    run_confirm_ttl_s: float = 600.0  # how long a `/amd run` confirmation's Trigger button works
    backfill_max_runs: int = Field(100, ge=1)  # the most runs one `/amd run … --from … --to …` may make
    # DAG globs triggered at once…
    run_skip_confirmation: list[str] = Field(default_factory=list, examples=[["dev_*", "scratch_*"]])
    run_production: list[str] = Field(default_factory=lambda: ["*"])  # …unless one of these matches

    # dbt: a project dir is enough; the warehouse connection comes from its dbt profile (bot/project.py)
    dbt_project_dir: Path = DEMO_DIR / "dbt"
    # dbt's own variables count too, so the bot reads the profile dbt would read.
    dbt_profiles_dir: Path | None = Field(
        None, validation_alias=AliasChoices("AMD_DBT_PROFILES_DIR", "DBT_PROFILES_DIR")
    )
    dbt_target: str | None = Field(None, validation_alias=AliasChoices("AMD_DBT_TARGET", "DBT_TARGET"))
    dbt_executable: str = "dbt"
    dbt_manifest: Path | None = None  # default: the project's target/manifest.json (demo: under $AMD_HOME)
    entities: str | None = None  # dbt selector of the entity models (foundation/entity_selection)
    dbt_max_concurrency: int = Field(2, ge=1, le=16)  # dbt runs at once, across every replica
    dbt_timeout_s: float = Field(7200.0, gt=0)  # wall clock per dbt invocation; then it is stopped

    # State. Default: sqlite+aiosqlite:///$AMD_HOME/state.db. A secret: a PostgreSQL URL carries a password.
    state_url: SecretStr | None = None
    # Pruned hourly by every replica: claims, closed confirmations, settled live cards…
    retention_days: float = Field(30.0, gt=0)
    # …and Slack event ids kept for dedupe (Slack retries within minutes: a day is ample).
    event_retention_hours: float = Field(24.0, gt=0)
    # …and the audit log of commands and actions, which compliance reviews read long after the fact.
    audit_retention_days: float = Field(365.0, gt=0)
    # A replica whose heartbeat is older than this is dead: its dbt slots are free, its runs lost.
    lease_ttl_s: float = Field(30.0, gt=0)
    cancel_poll_s: float = Field(1.0, gt=0)  # how soon a cancel pressed on any replica reaches the run
    # On SIGTERM: stop taking work, let runs finish this long, then cancel them and wait up to 15 s
    # more (dbt gets 10 s to stop): within Kubernetes' 30 s termination grace.
    shutdown_grace_s: float = Field(10.0, ge=0)

    # People and access
    owners: dict[str, str] = Field(  # dbt owner name -> Slack user/group id
        default_factory=dict, examples=[{"payments-team": "S0PAYMENTS", "data-platform": "U0MARIA01"}]
    )
    admins: list[str] = Field(default_factory=list, examples=[["U0MARIA01", "U0JONAS01"]])
    groups: dict[str, list[str]] = Field(  # user-group id -> member user ids
        default_factory=dict, examples=[{"S0PAYMENTS": ["U0JONAS01", "U0MARIA01"], "S0OPS": ["U0ALEX01"]}]
    )
    access: list[AccessRule] = Field(  # empty: everyone may do everything…
        default_factory=list,
        examples=[[AccessRule(action="run:amd_*", users=["S0DATA"], channels=["C0OPS"])]],
    )
    access_open: bool = False  # …which Slack modes refuse unless this says it is meant

    # Migrations
    migrations: list[MigrationSpec] = Field(default_factory=default_migrations)  # history migrations shown
    migration_ingest_token: SecretStr | None = None  # bearer token copy jobs send; unset: no ingest API

    # Operations
    log_format: LogFormat = "plain"  # AMD_LOG_FORMAT=json: one JSON object per line (servers only)

    # Help-channel answers and App Home
    # Channel ids where every message may be a question.
    help_channels: list[str] = Field(default_factory=list, examples=[["C0HELP", "C0DATA"]])
    help_reply_to_chatter: bool = False  # True: say "I cannot answer" also to chatter, mentioned or not
    help_user_limit: int = Field(6, ge=1)  # questions answered per user per window, then one notice…
    help_channel_limit: int = Field(30, ge=1)  # …and per channel: stops loops and floods
    help_rate_window_s: float = Field(60.0, ge=1)
    home_min_interval_s: float = Field(60.0, ge=0)  # a user's Home tab is rebuilt at most this often

    # Alerts and digests (bot/alerts): routes, and how often the failure watcher looks
    alert_routes: list[AlertRoute] = Field(
        default_factory=default_routes, examples=[[AlertRoute(name="ops", channel="C0OPS", kinds=["run"])]]
    )
    # DAG globs watched besides the catalog's meta.dag.
    alert_dags: list[str] = Field(default_factory=list, examples=[["flaky_*", "hourly_fx"]])
    alert_poll_s: float = Field(60.0, gt=0)
    alert_suppress_s: float = Field(3600.0, ge=0)  # a flapping failure is not alerted again sooner
    alert_renotify_s: float = Field(14400.0, gt=0)  # an unacknowledged critical incident is told again
    # Where delivery problems, and incidents without a channel, go (unset: the first route's channel).
    alert_fallback_channel: str | None = Field(None, min_length=1, max_length=200)
    alert_lookback_h: float = Field(24.0, gt=0)  # a watcher with no mark yet reads runs this far back
    alert_missing_grace_m: float = Field(30.0, ge=0)  # a scheduled run not started by then is missing
    dbt_results_dir: Path | None = None  # where the DAG factory's tasks keep run_results.json (off: None)
    dbt_results_max_mb: float = Field(50.0, gt=0)  # a bigger file there is named and skipped…
    dbt_results_timeout_s: float = Field(30.0, gt=0)  # …and a read slower than this (a stalled mount)

    @model_validator(mode="after")
    def _demo_migration_only_with_the_demo(self) -> Self:
        # The default migration is the demo's (demo/migration/): a team's own project starts with none.
        if "migrations" not in self.model_fields_set and not self.uses_demo_project:
            self.migrations = []
        return self

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if found := problems(self):
            raise ValueError("\n".join(found))  # one line each: settings_load reports them one by one
        return self

    def serve_refusal(self, *, http: bool) -> str | None:
        return serve_refusal(self, http=http)

    @property
    def demo_home(self) -> Path:
        return self.home / "demo"

    @property
    def warehouse_path(self) -> Path:
        return self.duckdb_path or self.demo_home / "warehouse.duckdb"

    @property
    def uses_demo_project(self) -> bool:
        return self.dbt_project_dir.resolve() == (DEMO_DIR / "dbt").resolve()

    @property
    def manifest_path(self) -> Path:
        if self.dbt_manifest is not None:
            return self.dbt_manifest
        if self.uses_demo_project:  # the demo's manifest belongs to its world, which lives in $AMD_HOME
            return self.home / "dbt" / "target" / "manifest.json"
        return self.dbt_project_dir / "target" / "manifest.json"

    @property
    def profiles_dir(self) -> Path:
        """Where dbt looks for profiles.yml: the setting, else the project dir if it has one, else ~/.dbt."""
        if self.dbt_profiles_dir is not None:
            return self.dbt_profiles_dir
        if (self.dbt_project_dir / "profiles.yml").exists():
            return self.dbt_project_dir
        return Path.home() / ".dbt"

    @property
    def charts_dir(self) -> Path:
        return self.home / "charts"

    @property
    def state_dsn(self) -> str:
        if self.state_url is not None:
            return self.state_url.get_secret_value()
        return f"sqlite+aiosqlite:///{self.home / 'state.db'}"

    @property
    def slack_mode(self) -> Literal["socket", "http", "console"]:
        if self.slack_bot_token is None:
            return "console"
        return "socket" if self.slack_app_token is not None else "http"
