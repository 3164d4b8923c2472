"""deploy/slack/manifest.yaml is a manifest Slack accepts, and grants what the bot needs."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.slack_fake.web_api import METHOD_SCOPES, SCOPELESS_METHODS

REPO_ROOT = Path(__file__).resolve().parents[1]
SLACK_DIR = REPO_ROOT / "deploy" / "slack"
SCHEMA = REPO_ROOT.parent / "shared" / "schemas" / "slack-app-manifest.schema.1.0.0.json"
# The scope Slack requires before it delivers each event (docs.slack.dev/reference/events/<event>).
EVENT_SCOPES = {
    "app_mention": "app_mentions:read",
    "message.channels": "channels:history",
    "message.groups": "groups:history",
    "message.im": "im:history",
    "message.mpim": "mpim:history",
    "app_home_opened": None,  # needs no scope
    "link_shared": "links:read",
}


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((SLACK_DIR / "manifest.yaml").read_text())
    return loaded


def schema_errors(document: dict[str, Any]) -> list[str]:
    if not SCHEMA.exists():
        pytest.skip(
            f"Slack's manifest schema is not at {SCHEMA} (it ships in the shared folder, not the repo)"
        )
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


def test_the_manifest_matches_slacks_schema(manifest: dict[str, Any]) -> None:
    assert schema_errors(manifest) == []
    assert manifest["_metadata"]["major_version"] == 1


def test_the_bot_user_and_the_amd_command(manifest: dict[str, Any]) -> None:
    [command] = manifest["features"]["slash_commands"]

    assert manifest["features"]["bot_user"]["display_name"] == "amd-bot"
    assert command["command"] == "/amd"
    assert command["description"]
    assert command["usage_hint"].startswith("help")


def test_socket_mode_needs_no_public_urls(manifest: dict[str, Any]) -> None:
    settings = manifest["settings"]

    assert settings["socket_mode_enabled"] is True
    assert settings["interactivity"]["is_enabled"] is True
    assert all("url" not in command for command in manifest["features"]["slash_commands"])
    assert "request_url" not in settings["interactivity"]
    assert "request_url" not in settings["event_subscriptions"]


def test_every_event_and_feature_has_its_scope(manifest: dict[str, Any]) -> None:
    scopes = manifest["oauth_config"]["scopes"]["bot"]
    events = manifest["settings"]["event_subscriptions"]["bot_events"]

    assert len(scopes) == len(set(scopes))
    assert set(events) <= EVENT_SCOPES.keys(), "add the new event's scope to EVENT_SCOPES"
    assert {EVENT_SCOPES[e] for e in events} - {None} <= set(scopes)
    assert "commands" in scopes
    assert "app_mention" in events


# Why a scope no Web API call or event needs is still asked for.
WITHOUT_A_CALL = {
    "commands": "the /amd slash command",
    "chat:write.public": "stall alerts post to a migration's configured channel, which the bot may not be in",
}
# Scopes a call needs beyond its METHOD_SCOPES one, because of the arguments the code passes.
BY_ARGUMENTS = {"groups:read": "conversations.list with types=private_channel: private #names too"}
# slack_sdk helpers that call several Web API methods.
SDK_HELPERS = {"files_upload_v2": ("files.getUploadURLExternal", "files.completeUploadExternal")}


def test_the_manifest_asks_only_for_scopes_the_code_uses(manifest: dict[str, Any]) -> None:
    code = "\n".join(p.read_text() for d in ("bot", "commands") for p in (REPO_ROOT / d).rglob("*.py"))
    methods = {
        method
        for name in re.findall(
            r"\bclient\.((?:chat|files|users|usergroups|conversations|views|reactions)_\w+)\(", code
        )
        for method in SDK_HELPERS.get(name, (name.replace("_", ".", 1),))
    }
    listened = set(re.findall(r"\bapp\.event\(\"([\w.]+)\"\)", code))
    events = manifest["settings"]["event_subscriptions"]["bot_events"]

    assert {"chat.postMessage", "chat.update", "files.getUploadURLExternal"} <= methods  # the scan works
    assert {e.split(".")[0] for e in events} <= listened, "an event is subscribed that nothing listens to"
    used = (
        {METHOD_SCOPES[m] for m in methods - SCOPELESS_METHODS}
        | {scope for e in events if (scope := EVENT_SCOPES[e])}
        | WITHOUT_A_CALL.keys()
        | BY_ARGUMENTS.keys()
    )
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == used


def test_the_documented_http_variant_is_a_valid_manifest_too(manifest: dict[str, Any]) -> None:
    readme = (SLACK_DIR / "README.md").read_text()
    [variant_text] = re.findall(r"```yaml\n(.*?)```", readme, flags=re.DOTALL)
    http = merge(copy.deepcopy(manifest), yaml.safe_load(variant_text))

    assert schema_errors(http) == []
    assert http["settings"]["socket_mode_enabled"] is False
    urls = [
        *(c["url"] for c in http["features"]["slash_commands"]),
        http["settings"]["event_subscriptions"]["request_url"],
        http["settings"]["interactivity"]["request_url"],
    ]
    assert all(re.fullmatch(r"https://[^/]+/slack/events", url) for url in urls), urls
    assert (
        http["settings"]["event_subscriptions"]["bot_events"]
        == manifest["settings"]["event_subscriptions"]["bot_events"]
    )


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Nested mappings merge; anything else (lists included) is replaced, as when editing the YAML."""
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = value
    return base
