"""`amd-bot doctor`, run as an operator runs it: one line per system, exit 0 only when all pass."""

from __future__ import annotations

import asyncio
import secrets
import sys
from pathlib import Path

import yaml
from pydantic import SecretStr

from bot.doctor import guarded
from bot.doctor.alert_channels import check_alert_channels
from bot.doctor.checks import Finding
from bot.doctor.slack import NEEDED_SCOPES, check_slack
from bot.doctor.systems import check_ingest_token, check_state
from bot.foundation.alert_routes import AlertRoute
from bot.foundation.catalog import Catalog
from bot.foundation.errors import ConfigError
from bot.foundation.settings import Settings
from bot.state import migrate
from bot.state.store import SqlState
from tests.slack_fake.web_api import FakeSlack
from tests.support.demo import process_env
from tests.support.legacy_state import hand_rolled_store

ROOT = Path(__file__).resolve().parent.parent


def demo_env(settings: Settings, **variables: str) -> dict[str, str]:
    return process_env(settings, f"sqlite+aiosqlite:///{settings.home / 'doctor-state.db'}", **variables)


async def doctor(env: dict[str, str]) -> tuple[int, dict[str, str]]:
    """The exit status, and each check's line by the check's name."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "doctor", env=env, cwd=ROOT, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=180)
    lines = out.decode().splitlines()
    assert lines[-1] in ("all checks passed", *(f"{n} of 7 checks failed" for n in range(1, 8))), lines
    by_check = {}
    for line in lines[:-1]:
        status, rest = line.split(" ", 1)
        check = rest.strip().split("  ", 1)[0]
        by_check[check] = f"{status} {rest.strip()}"
    assert proc.returncode is not None
    return proc.returncode, by_check


async def test_a_fresh_demo_is_all_green_and_slack_is_not_needed(demo_settings: Settings) -> None:
    code, lines = await doctor(demo_env(demo_settings))

    assert code == 0, lines
    assert lines["slack"].startswith("skip slack ") and "not configured (console mode)" in lines["slack"]
    assert lines["alert channels"].startswith("skip")
    for check in ("dbt", "warehouse", "orchestrator", "state store", "ingest token"):
        assert lines[check].startswith("ok "), lines[check]
    assert "all 4 entity relations readable" in lines["warehouse"]
    assert "lists all 4 DAGs" in lines["orchestrator"]


async def test_a_broken_configuration_says_what_is_wrong_and_how_to_fix_it(
    demo_settings: Settings, tmp_path: Path
) -> None:
    granted = NEEDED_SCOPES - {"files:write"}
    async with FakeSlack(scopes=granted) as slack:
        env = demo_env(
            demo_settings,
            SLACK_BOT_TOKEN="xoxb-doctor-test",
            SLACK_SIGNING_SECRET="doctor-signing-secret-0123456789",
            SLACK_API_URL=slack.api_url,
            AMD_DUCKDB_PATH=str(tmp_path / "nowhere" / "warehouse.duckdb"),
            AMD_ORCHESTRATOR="airflow",
            AMD_AIRFLOW_URL="http://127.0.0.1:9",  # the discard port: nobody answers
            AMD_AIRFLOW_USERNAME="admin",
            AMD_AIRFLOW_PASSWORD="admin",
            AMD_MIGRATION_INGEST_TOKEN="0123456789abcdef",  # long enough to start, far too guessable
        )
        code, lines = await doctor(env)

    assert code == 1
    assert lines["slack"].startswith("FAIL")
    assert "missing scope(s) files:write" in lines["slack"] and "reinstall the app" in lines["slack"]
    assert lines["dbt"].startswith("FAIL") and "does not exist" in lines["dbt"]
    assert (
        lines["warehouse"].startswith("FAIL")
        and "nowhere/warehouse.duckdb cannot be opened" in lines["warehouse"]
    )
    assert lines["orchestrator"].startswith("FAIL")
    assert (
        "127.0.0.1:9 is unreachable" in lines["orchestrator"] and "AMD_AIRFLOW_URL" in lines["orchestrator"]
    )
    assert lines["ingest token"].startswith("FAIL") and "token_urlsafe(32)" in lines["ingest token"]
    assert lines["state store"].startswith("ok ")  # one broken system never hides the others
    assert lines["alert channels"].startswith("FAIL")  # the entities' support channels do not exist
    assert "0123456789abcdef" not in str(lines)


async def test_slack_with_every_scope_passes_and_a_wrong_token_fails(bot_settings: Settings) -> None:
    async with FakeSlack(bot_token="xoxb-the-right-one") as slack:
        settings = bot_settings.model_copy(update={"slack_api_url": slack.api_url})
        right = settings.model_copy(update={"slack_bot_token": SecretStr("xoxb-the-right-one")})
        wrong = settings.model_copy(update={"slack_bot_token": SecretStr("xoxb-a-revoked-one")})
        passed, refused = await check_slack(right), await check_slack(wrong)

    assert passed.passed and f"all {len(NEEDED_SCOPES)} needed scopes granted" in passed.detail
    assert not refused.passed and "invalid_auth" in refused.detail and "SLACK_BOT_TOKEN" in str(refused.fix)


def test_a_random_ingest_token_is_strong_and_repeats_are_weak(bot_settings: Settings) -> None:
    def finding(token: str) -> bool:
        return check_ingest_token(
            bot_settings.model_copy(update={"migration_ingest_token": SecretStr(token)})
        ).passed

    assert finding(secrets.token_urlsafe(32))
    assert not finding("a" * 64)
    assert not finding("correct-horse-battery-staple")


def test_the_scopes_the_doctor_wants_are_the_manifests() -> None:
    manifest = yaml.safe_load((ROOT / "deploy" / "slack" / "manifest.yaml").read_text())

    assert set(manifest["oauth_config"]["scopes"]["bot"]) == NEEDED_SCOPES


async def test_a_store_behind_the_code_names_the_upgrade_command(bot_settings: Settings) -> None:
    state = SqlState(bot_settings.state_dsn)
    try:
        async with state.engine.begin() as conn:
            await conn.run_sync(hand_rolled_store, 5)
    finally:
        await state.close()

    behind = await check_state(bot_settings)

    assert not behind.passed
    assert (
        f"schema at 0005, this amd-bot needs {migrate.head()}" in behind.detail
        and "amd-bot db upgrade" in str(behind.fix)
    )


async def test_a_check_that_raises_is_a_fail_line_with_a_fix_not_a_traceback() -> None:
    async def unforeseen() -> Finding:
        raise RuntimeError("the adapter broke in a new way")

    async def incomplete() -> Finding:
        raise ConfigError(["AMD_WAREHOUSE=snowflake needs AMD_SNOWFLAKE_USER"])

    broken = await guarded("orchestrator", unforeseen())
    missing = await guarded("warehouse", incomplete())

    assert (broken.status, broken.detail) == ("FAIL", "RuntimeError: the adapter broke in a new way")
    assert broken.fix and "amd-bot -v doctor" in broken.fix
    assert missing.status == "FAIL" and "AMD_SNOWFLAKE_USER" in missing.detail


async def test_alert_channels_that_cannot_be_posted_to_fail_and_entities_without_one_are_named(
    bot_settings: Settings,
) -> None:
    async with FakeSlack() as slack:
        slack.create_channel("amd-ops")
        slack.archive(slack.create_channel("amd-old"))
        settings = bot_settings.model_copy(
            update={"slack_api_url": slack.api_url, "slack_bot_token": SecretStr("xoxb-doctor-test")}
        )
        catalog = Catalog.load(settings.manifest_path, settings.owners, settings.entities)
        routes = [AlertRoute(name="ops", channel="#amd-ops"), AlertRoute(name="old", channel="#amd-old")]
        broken = await check_alert_channels(settings.model_copy(update={"alert_routes": routes}), catalog)
        for entity in catalog.entities.values():
            if entity.support_channel and entity.support_channel != "#amd-ops":
                slack.create_channel(entity.support_channel.removeprefix("#"))
        per_entity = settings.model_copy(
            update={"alert_routes": [AlertRoute(), routes[0]], "alert_dags": ["flaky_*"]}
        )
        lonely = await check_alert_channels(per_entity, catalog)

    assert not broken.passed and "#amd-old (route old)" in broken.detail and "#amd-ops" not in broken.detail
    assert "/invite @amd-bot" in str(broken.fix)
    assert lonely.status == "warn" and "AMD_ALERT_DAGS (flaky_*)" in lonely.detail
    assert "#amd-ops" in str(lonely.fix)  # the fallback: the first route with a fixed channel
