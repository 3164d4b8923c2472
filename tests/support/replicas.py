"""amd-bot replicas as real OS processes (`amd-bot serve --http`) sharing one state store, each with
its own home and its own copy of the demo warehouse, all talking to one FakeSlack in the test process.
Settings reach them as an operator gives them: environment variables (`AMD_*`, `SLACK_*`).

    async with replicas(demo_settings, state_url, tmp_path, poll_interval_s="1") as (group, slack):
        a = await group.start("a")
        await a.slash("/amd test payment", user="U7", channel="C1")   # signed, like Slack's
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager, suppress
from pathlib import Path

import aiohttp

from bot.foundation.settings import Settings
from tests.slack_fake.web_api import FakeSlack
from tests.support.bot import BOT_TOKEN, SIGNING_SECRET, BotHarness

REPO_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 90.0


class SlackSide(BotHarness):
    """Slack's side of a bot at `url` (a replica, or a load balancer in front of several): signed slash
    commands, presses and events, and FakeSlack's record of what the bot answered."""

    def __init__(self, slack: FakeSlack, url: str) -> None:
        self.slack, self.url = slack, url
        self._session = aiohttp.ClientSession()

    async def ready(self) -> bool:
        """/readyz answers 200 (False also when nothing listens)."""
        try:
            async with self._session.get(f"{self.url}/readyz") as resp:
                return resp.status == 200
        except aiohttp.ClientError:
            return False


class BotProcess(SlackSide):
    """One replica: Slack's side of it and its OS process (log in `home/<name>.log`)."""

    def __init__(self, name: str, slack: FakeSlack, home: Path, env: Mapping[str, str]) -> None:
        super().__init__(slack, "")
        self.name, self.home, self._env = name, home, dict(env)
        self.proc: asyncio.subprocess.Process | None = None
        self.port = 0

    async def start(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        log = self.log.open("ab")
        argv = [sys.executable, "-m", "bot.cli", "serve", "--http"]
        argv += ["--host", "127.0.0.1", "--port", str(self.port)]
        self.proc = await asyncio.create_subprocess_exec(
            *argv, cwd=self.home, env=self._env, stdout=log, stderr=log, stdin=asyncio.subprocess.DEVNULL
        )
        log.close()
        async with asyncio.timeout(START_TIMEOUT_S):
            while not await self.ready():
                if self.proc.returncode is not None:
                    raise RuntimeError(f"replica {self.name} exited: {self.log_tail()}")
                await asyncio.sleep(0.2)

    @property
    def log(self) -> Path:
        return self.home / f"{self.name}.log"

    def log_tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    async def kill(self) -> None:
        """SIGKILL: no cleanup at all, as when a node dies or the OOM killer strikes."""
        assert self.proc is not None
        self.proc.kill()
        await self.proc.wait()

    async def terminate(self, timeout_s: float) -> int:
        """SIGTERM, as Kubernetes stops a pod; returns the exit code once it exited."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(timeout_s):
            return await self.proc.wait()

    async def close(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        await self._session.close()


class Replicas:
    """Starts replicas of one configuration; stops every one (and stray dbt process groups) at the end."""

    def __init__(self, slack: FakeSlack, root: Path, base: Mapping[str, str]) -> None:
        self.slack, self.root, self.base = slack, root, base
        self.started: list[BotProcess] = []
        self.dbt_groups: list[int] = []  # pids of dbt wrappers a killed replica left behind

    async def start(self, name: str, home: str | None = None) -> BotProcess:
        """A replica; `home`: reuse another's (a restart of the same pod)."""
        directory = self.root / (home or name)
        if not directory.exists():
            directory.mkdir()
            shutil.copy(self.base["AMD_DUCKDB_PATH"], directory / "warehouse.duckdb")
        env = {
            **self.base,
            "AMD_HOME": str(directory),
            "AMD_DUCKDB_PATH": str(directory / "warehouse.duckdb"),
        }
        bot = BotProcess(name, self.slack, directory, env)
        self.started.append(bot)
        await bot.start()
        return bot

    def logs(self) -> str:
        """Every replica's log, one after the other."""
        return "".join(bot.log.read_text(errors="replace") for bot in self.started if bot.log.exists())

    async def close(self) -> None:
        for bot in self.started:
            await bot.close()
        for pid in self.dbt_groups:
            with suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)


@asynccontextmanager
async def replicas(
    demo: Settings, state_url: str, root: Path, **settings: str
) -> AsyncIterator[tuple[Replicas, FakeSlack]]:
    """Replicas of the demo bot on `state_url`; `settings` are more AMD_* variables (by setting name,
    values as in the environment: JSON for lists and objects)."""
    async with FakeSlack() as slack:
        # Only what we set: the developer's own AMD_*/SLACK_* variables must not leak into the replicas.
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(("AMD_", "SLACK_"))}
        base = {
            **inherited,
            "PYTHONPATH": str(REPO_ROOT),
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.api_url,
            "AMD_STATE_URL": state_url,
            "AMD_ACCESS_OPEN": "true",  # open access is a choice in Slack modes; these stories make it
            "AMD_DUCKDB_PATH": str(demo.warehouse_path),
            "AMD_DBT_MANIFEST": str(demo.manifest_path),
            **{f"AMD_{name.upper()}": value for name, value in settings.items()},
        }
        group = Replicas(slack, root, base)
        try:
            yield group, slack
        finally:
            await group.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
