"""The image's default command (deploy/Dockerfile's CMD) starts and gets ready with exactly the
environment the Deployment builds from the Secret documented in deploy/README.md and the ConfigMap.

Only what needs Google Cloud or Snowflake is swapped for the demo's (warehouse, orchestrator, the dbt
project the init container would copy); the Secret's values are real for what they name: the state
URL points at a real PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from bot.foundation.settings import Settings
from tests.support.postgres import scratch_database

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
ROOT = DEPLOY.parent


def documented_secrets() -> dict[str, set[str]]:
    """Secret name -> its keys, from the `kubectl create secret generic` commands in deploy/README.md."""
    text = (DEPLOY / "README.md").read_text().replace("\\\n", " ")
    secrets: dict[str, set[str]] = {}
    for name, flags in re.findall(r"kubectl create secret generic (\S+)([^\n]*)", text):
        secrets[name] = set(re.findall(r"--from-(?:literal|file)=([a-z0-9.-]+)=", flags))
    return secrets


def container() -> dict[str, Any]:
    deployment = yaml.safe_load((DEPLOY / "k8s" / "deployment.yaml").read_text())
    [bot] = [c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == "amd-bot"]
    found: dict[str, Any] = bot
    return found


def image_command() -> list[str]:
    [cmd] = [line for line in (DEPLOY / "Dockerfile").read_text().splitlines() if line.startswith("CMD ")]
    command: list[str] = json.loads(cmd.removeprefix("CMD "))
    return command


def test_every_secret_key_the_deployment_reads_is_documented() -> None:
    documented = documented_secrets()
    for env in container()["env"]:
        ref = env.get("valueFrom", {}).get("secretKeyRef")
        if ref:
            assert ref["key"] in documented[ref["name"]], env["name"]


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    async for url in scratch_database("amd_image"):
        yield url


@pytest.mark.postgres
async def test_the_image_command_gets_ready_with_the_documented_secret(
    demo_settings: Settings, postgres_url: str, tmp_path: Path
) -> None:
    secret_values = {
        "slack-bot-token": "xoxb-image-check-0123456789",
        "slack-signing-secret": "image-check-signing-secret-0123456789",
        "state-url": postgres_url,
        "snowflake-private-key-pwd": "image-check-passphrase",
    }
    assert set(secret_values) == documented_secrets()["amd-bot"]
    # As the image's PATH starts with its virtualenv's bin, where `amd-bot` is installed.
    env: dict[str, str] = {"PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    for variable in container()["env"]:
        ref = variable.get("valueFrom", {}).get("secretKeyRef")
        env[variable["name"]] = secret_values[ref["key"]] if ref else variable["value"]
    configmap = yaml.safe_load((DEPLOY / "k8s" / "configmap.yaml").read_text())
    (tmp_path / "amd.toml").write_text(configmap["data"]["amd.toml"])
    for unreachable_here in ("AMD_DBT_PROJECT_DIR", "AMD_DBT_PROFILES_DIR", "AMD_SNOWFLAKE_PRIVATE_KEY_FILE"):
        del env[unreachable_here]
    env.update(
        AMD_WAREHOUSE="duckdb",
        AMD_ORCHESTRATOR="local",
        AMD_DUCKDB_PATH=str(demo_settings.warehouse_path),
        AMD_DBT_MANIFEST=str(demo_settings.manifest_path),
        AMD_CONFIG=str(tmp_path / "amd.toml"),
        AMD_HOME=str(tmp_path),
        HOME=str(tmp_path),
        MPLCONFIGDIR=str(tmp_path / "mpl"),
        SLACK_API_URL="http://127.0.0.1:9/api/",  # the discard port: nothing may reach the real Slack
    )
    command = image_command()
    port = _free_port()  # not the image's 8080: other test runs may share this machine
    command[command.index("--port") + 1] = str(port)
    with (tmp_path / "stderr.log").open("wb") as stderr:
        server = await asyncio.create_subprocess_exec(*command, env=env, cwd=tmp_path, stderr=stderr)
    try:
        ready = await _ready(port, server)
    finally:
        server.terminate()
        await server.wait()

    assert ready == {"ok": True, "entities": 4}, (tmp_path / "stderr.log").read_text()[-2000:]


async def _ready(port: int, server: asyncio.subprocess.Process) -> Any:
    async with aiohttp.ClientSession() as http:
        for _ in range(600):
            if server.returncode is not None:
                return f"exited with {server.returncode}"
            try:
                async with http.get(f"http://127.0.0.1:{port}/readyz") as resp:
                    return await resp.json()
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.1)
    return "not ready within 60 s"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
