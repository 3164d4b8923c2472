"""Settings: env, .env and a TOML file; secrets stay secret even in configuration errors."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.foundation.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def test_the_deploy_toml_example_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    configmap = yaml.safe_load((ROOT / "deploy/k8s/configmap.yaml").read_text())
    toml = tmp_path / "amd.toml"
    toml.write_text(configmap["data"]["amd.toml"])
    monkeypatch.setenv("AMD_CONFIG", str(toml))
    monkeypatch.setenv("AMD_SNOWFLAKE_ROLE", "FROM_ENV")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.owners["payments-team"] == "S0PAYMENTS"
    assert settings.access[0].action == "run:amd_*" and settings.access[0].channels == ["C0DATAOPS"]
    assert settings.groups["S0PAYMENTS"] == ["U0JONASW01", "U0MARIAP01"]
    assert settings.snowflake_role == "FROM_ENV"  # the environment wins over the file


def test_a_copied_env_example_means_the_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AMD_CONFIG", "AMD_HOME", "SLACK_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    env = tmp_path / ".env"
    env.write_text((ROOT / ".env.example").read_text())
    from_example = Settings(_env_file=env)  # type: ignore[call-arg]
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    assert from_example.model_dump() == defaults.model_dump()
    assert from_example.slack_mode == "console"


def test_every_setting_is_documented_in_env_example() -> None:
    example = (ROOT / ".env.example").read_text()
    aliases = {
        "slack_bot_token": "SLACK_BOT_TOKEN",
        "slack_app_token": "SLACK_APP_TOKEN",
        "slack_signing_secret": "SLACK_SIGNING_SECRET",
        "slack_api_url": "SLACK_API_URL",
        "home": "AMD_HOME",
    }
    for name in Settings.model_fields:
        env_name = aliases.get(name, f"AMD_{name.upper()}")
        assert f"\n{env_name}=" in example or f"# {env_name}=" in example, (
            f"{env_name} missing from .env.example"
        )


def test_placeholder_secrets_are_refused_without_echoing_them(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "SLACK_BOT_TOKEN": "changeme",
        "SLACK_SIGNING_SECRET": "s3cr3t-value-that-must-not-leak",
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve", "--http"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "SLACK_BOT_TOKEN is a placeholder" in done.stderr
    assert "s3cr3t-value-that-must-not-leak" not in done.stderr + done.stdout
    assert "changeme" not in done.stderr + done.stdout


def test_slack_mode_follows_the_tokens() -> None:
    assert Settings(_env_file=None, slack_bot_token="xoxb-1", slack_app_token="xapp-1").slack_mode == "socket"  # type: ignore[call-arg]
    assert Settings(_env_file=None, slack_bot_token="xoxb-1", slack_signing_secret="abc").slack_mode == "http"  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="needs SLACK_APP_TOKEN"):
        Settings(_env_file=None, slack_bot_token="xoxb-1")  # type: ignore[call-arg]


def test_the_demos_migration_is_the_default_only_with_the_demo_project(tmp_path: Path) -> None:
    demo = Settings(_env_file=None)  # type: ignore[call-arg]
    own = Settings(_env_file=None, dbt_project_dir=tmp_path)  # type: ignore[call-arg]
    declared = Settings(  # type: ignore[call-arg]
        _env_file=None, dbt_project_dir=tmp_path, migrations=demo.migrations
    )

    assert [m.name for m in demo.migrations] == ["delivery_address_history"]
    assert own.migrations == []
    assert declared.migrations == demo.migrations
