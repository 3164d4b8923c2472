"""`run_dbt`: the one place dbt is spawned (re-exported by `bot.adapters.dbt.cli`).

dbt is never invoked in-process: its `dbtRunner` is not safe for parallel invocations (flags leak
between threads). Callers give every invocation its own target and log directory, so two runs never
overwrite each other's artifacts; the partial parse of the last finished one is copied in.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import re
import shutil
import signal
import sys
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

EventCallback = Callable[[dict[str, Any]], Awaitable[None]]
_LINE_LIMIT = 16 * 1024 * 1024  # one JSON event per line; an error event can carry a whole query
_STOP_GRACE_S = 10.0  # SIGINT lets dbt cancel its queries and close the database before it exits
_last_target: dict[Path, Path] = {}  # project dir -> target of its last finished invocation


@dataclass(frozen=True)
class DbtProcess:
    exit_code: int  # 0 ok, 1 a node failed, 2 dbt could not run
    target_path: Path
    log_path: Path
    invocation_id: str | None
    started_at: datetime
    ended_at: datetime
    error: str | None  # dbt's error events (or the end of stderr) when exit_code != 0
    timed_out: bool = False  # stopped at its time limit (exit_code is then 2)

    @property
    def run_results(self) -> Path:
        return self.target_path / "run_results.json"

    @property
    def manifest(self) -> Path:
        return self.target_path / "manifest.json"

    @property
    def sources(self) -> Path:
        return self.target_path / "sources.json"

    @property
    def log_file(self) -> Path:
        return self.log_path / "dbt.log"


def remember_target(project_dir: Path, target_path: Path, *, unless_known: bool = False) -> None:
    """Make `target_path` the source of partial_parse.msgpack for the next invocation on the project
    (`unless_known`: only if no invocation finished yet, e.g. a start-up seed)."""
    key = project_dir.resolve()
    if not (unless_known and key in _last_target):
        _last_target[key] = target_path


async def run_dbt(
    args: Sequence[str],
    *,
    project_dir: Path,
    profiles_dir: Path,
    target_path: Path,
    log_path: Path,
    env: Mapping[str, str] | None = None,
    executable: str = "dbt",
    target: str | None = None,
    on_event: Callable[[dict[str, Any]], Awaitable[None]] | None = None,
    timeout_s: float | None = None,
) -> DbtProcess:
    """Run one dbt command (`args`, e.g. ["test", "--select", "payment"]) to completion, or until
    `timeout_s` has passed: then it is stopped and the result says `timed_out`.

    Every `--log-format json` event on stdout is passed to `on_event`. Cancelling the awaiting task
    stops dbt's whole process group (SIGINT, then SIGKILL after a grace period) and re-raises."""
    await asyncio.to_thread(_prepare, project_dir, target_path, log_path)
    argv = [_executable(executable), *args]
    argv += ["--project-dir", str(project_dir), "--profiles-dir", str(profiles_dir)]
    argv += ["--target-path", str(target_path), "--log-path", str(log_path)]
    # JSON on stdout for us; the file keeps dbt's readable debug format for people following a link.
    argv += ["--log-format", "json", "--log-format-file", "debug", "--no-use-colors"]
    if target:
        argv += ["--target", target]
    started = datetime.now(UTC)
    proc = await asyncio.create_subprocess_exec(
        *argv,
        cwd=project_dir,
        # The child needs our environment (PATH, HOME, the profile's own variables) plus `env`.
        env={**os.environ, **(env or {})},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,  # its own process group, so a cancel reaches every child
        limit=_LINE_LIMIT,
    )
    errors: deque[str] = deque(maxlen=20)
    stderr_tail: deque[str] = deque(maxlen=40)
    invocation_id: str | None = None
    assert proc.stdout is not None
    assert proc.stderr is not None
    stderr_task = asyncio.create_task(_collect(proc.stderr, stderr_tail))
    try:
        async with asyncio.timeout(timeout_s):
            async for raw in proc.stdout:
                event = _event(raw)
                if event is None:
                    stderr_tail.append(raw.decode(errors="replace").rstrip())
                    continue
                info = event.get("info", {})
                invocation_id = invocation_id or info.get("invocation_id")
                if info.get("level") == "error" and info.get("msg"):
                    errors.append(str(info["msg"]))
                if on_event is not None:
                    await _deliver(on_event, event)
            await stderr_task
            code = await proc.wait()
    except TimeoutError:
        stderr_task.cancel()
        await _stop(proc)
        limit = f"dbt was stopped after {timeout_s:g} s, its time limit (AMD_DBT_TIMEOUT_S)"
        ended = datetime.now(UTC)
        return DbtProcess(2, target_path, log_path, invocation_id, started, ended, limit, timed_out=True)
    except BaseException:
        stderr_task.cancel()
        await _stop(proc)
        raise
    if code in (0, 1):
        remember_target(project_dir, target_path)
    error = None if code == 0 else "\n".join(errors) or "\n".join(stderr_tail) or f"dbt exited with {code}"
    return DbtProcess(code, target_path, log_path, invocation_id, started, datetime.now(UTC), error)


def safe_name(key: str) -> str:
    """A directory name for a caller-chosen key (Airflow-style run ids carry `:` and `+`)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", key)[:80]
    if safe == key:
        return safe
    return f"{safe}-{hashlib.sha256(key.encode()).hexdigest()[:10]}"


def _executable(name: str) -> str:
    if name != "dbt" or shutil.which(name):
        return name
    # A venv that is not on PATH (the bot started as .venv/bin/amd-bot) still has dbt beside python.
    return str(Path(sys.executable).parent / "dbt")


def _prepare(project_dir: Path, target_path: Path, log_path: Path) -> None:
    target_path.mkdir(parents=True, exist_ok=True)
    log_path.mkdir(parents=True, exist_ok=True)
    # A fresh target path means a full parse (~4 s); dbt reuses a copied partial_parse.msgpack.
    last = _last_target.get(project_dir.resolve())
    if last is None or last.resolve() == target_path.resolve():
        return
    source, copy = last / "partial_parse.msgpack", target_path / "partial_parse.msgpack"
    if source.exists() and not copy.exists():
        shutil.copy2(source, copy)


def _event(raw: bytes) -> dict[str, Any] | None:
    try:
        event = json.loads(raw)
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


async def _deliver(on_event: EventCallback, event: dict[str, Any]) -> None:
    # Progress is best effort: a failing card update must not abort the dbt run behind it.
    try:
        await on_event(event)
    except Exception:
        log.exception("dbt event callback failed")


async def _collect(stream: asyncio.StreamReader, tail: deque[str]) -> None:
    async for raw in stream:
        tail.append(raw.decode(errors="replace").rstrip())


async def _stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGINT)
        await asyncio.wait_for(proc.wait(), _STOP_GRACE_S)
    except (ProcessLookupError, TimeoutError):
        pass
    finally:
        if proc.returncode is None:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
