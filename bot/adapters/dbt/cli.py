"""The DbtRunner port on the dbt CLI: `dbt test` and `dbt source freshness` as subprocesses.

Each invocation runs in its own directory, settings.home/dbt/runs/<run_key>/{target,logs}, so two
runs never overwrite each other's artifacts. Admission: this process's FIFO queue with positions
(`dbt_gate.py`), then one of the `dbt_max_concurrency` slots every replica shares (`state_leases.py`),
then for the demo the DuckDB file's writer lock (`dbt_gate.py`). Spawning and log streaming are in
`dbt_process.py`.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.adapters.dbt.artifacts import EventTracker, freshness_from, load_json, outcomes_from
from bot.adapters.dbt.gate import FifoGate, writer_lock
from bot.adapters.dbt.process import DbtProcess, remember_target, run_dbt, safe_name
from bot.foundation.dbt_port import DbtInvocation, DbtProgress, ProgressCallback
from bot.foundation.settings import Settings
from bot.state.leases import Leases

__all__ = ["DbtCliRunner", "DbtProcess", "dbt_env", "run_dbt"]

_KEEP_RUNS = 100  # per-run directories kept for inspection; older ones are removed


class DbtCliRunner:
    """The DbtRunner port on the dbt CLI. `leases` (the state store's) makes the concurrency limit hold
    across replicas; without it (one process, e.g. a script) the local FIFO gate alone admits."""

    def __init__(self, settings: Settings, leases: Leases | None = None) -> None:
        self._settings = settings
        self._runs_dir = settings.home / "dbt" / "runs"
        self._gate = FifoGate(settings.dbt_max_concurrency)
        self._leases = leases
        self._writer = writer_lock(settings)
        self._active: dict[str, asyncio.Task[DbtInvocation]] = {}
        if settings.manifest_path.parent.is_dir():
            remember_target(settings.dbt_project_dir, settings.manifest_path.parent, unless_known=True)

    @property
    def queued(self) -> int:
        return self._gate.waiting + (self._writer.waiting if self._writer else 0)

    async def test(
        self, selector: str | None, *, run_key: str, on_progress: ProgressCallback | None = None
    ) -> DbtInvocation:
        # The selector stays ONE argv element; dbt splits it on spaces itself (a union).
        select = ["--select", selector] if selector else []
        args = ["test", *select, "--indirect-selection", "cautious", "--store-failures"]
        return await self._invoke("test", args, selector, run_key, on_progress)

    async def freshness(self, *, run_key: str, on_progress: ProgressCallback | None = None) -> DbtInvocation:
        return await self._invoke("source freshness", ["source", "freshness"], None, run_key, on_progress)

    async def cancel(self, run_key: str) -> bool:
        task = self._active.get(run_key)
        if task is None or task.done():
            return False
        task.cancel()
        return True

    async def _invoke(
        self,
        command: str,
        args: list[str],
        selector: str | None,
        run_key: str,
        on_progress: ProgressCallback | None,
    ) -> DbtInvocation:
        if run_key in self._active:
            raise ValueError(f"dbt run {run_key!r} is active already")
        started = datetime.now(UTC)
        task = asyncio.create_task(self._run(command, args, selector, run_key, on_progress))
        self._active[run_key] = task
        try:
            return await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # our caller is being cancelled, not just this run
            return DbtInvocation(
                "", command, selector, 2, (), started, datetime.now(UTC), "cancelled", cancelled=True
            )
        finally:
            del self._active[run_key]

    async def _run(
        self,
        command: str,
        args: list[str],
        selector: str | None,
        run_key: str,
        on_progress: ProgressCallback | None,
    ) -> DbtInvocation:
        async def on_position(position: int) -> None:
            if on_progress is not None:
                await on_progress(DbtProgress(0, 0, queued=position))

        tracker = EventTracker()

        async def on_event(event: dict[str, Any]) -> None:
            progress = tracker.feed(event)
            if progress is not None and on_progress is not None:
                await on_progress(progress)

        run_dir = self._runs_dir / safe_name(run_key)
        async with self._admission(run_key, on_position):
            await asyncio.to_thread(_fresh_dir, run_dir, self._runs_dir)
            proc = await run_project_dbt(
                self._settings,
                args,
                target_path=run_dir / "target",
                log_path=run_dir / "logs",
                on_event=on_event,
            )
        return await asyncio.to_thread(_invocation, proc, command, selector, tracker)

    @asynccontextmanager
    async def _admission(
        self, run_key: str, on_position: Callable[[int], Awaitable[None]]
    ) -> AsyncIterator[None]:
        async def next_in_line() -> None:
            await on_position(1)  # first here, waiting for another replica's run to end

        shared: AbstractAsyncContextManager[None] = nullcontext()
        if self._leases is not None:
            shared = self._leases.dbt_slot(run_key, self._settings.dbt_max_concurrency, next_in_line)
        writer: AbstractAsyncContextManager[None] = (
            self._writer.hold(on_position) if self._writer else nullcontext()
        )
        async with self._gate.slot(on_position), shared, writer:
            yield


async def run_project_dbt(
    settings: Settings,
    args: list[str],
    *,
    target_path: Path,
    log_path: Path,
    on_event: Callable[[dict[str, Any]], Awaitable[None]] | None = None,
) -> DbtProcess:
    """dbt on the configured project, profile and target, within the configured time limit."""
    return await run_dbt(
        args,
        project_dir=settings.dbt_project_dir,
        profiles_dir=settings.profiles_dir,
        target_path=target_path,
        log_path=log_path,
        env=dbt_env(settings),
        executable=settings.dbt_executable,
        target=settings.dbt_target,
        on_event=on_event,
        timeout_s=settings.dbt_timeout_s,
    )


def dbt_env(settings: Settings) -> dict[str, str]:
    """Variables the dbt profile reads: the demo profile takes the DuckDB file from AMD_DEMO_DUCKDB."""
    return {"AMD_DEMO_DUCKDB": str(settings.warehouse_path)} if settings.warehouse == "duckdb" else {}


def _invocation(proc: DbtProcess, command: str, selector: str | None, tracker: EventTracker) -> DbtInvocation:
    manifest = load_json(proc.manifest) or {}
    results = load_json(proc.run_results)
    outcomes = outcomes_from(results, manifest) if results and command != "source freshness" else ()
    sources = (
        freshness_from(load_json(proc.sources), tracker, manifest) if command == "source freshness" else ()
    )
    return DbtInvocation(
        invocation_id=proc.invocation_id or "",
        command=command,
        selector=selector,
        exit_code=proc.exit_code,
        outcomes=outcomes,
        started_at=proc.started_at,
        ended_at=proc.ended_at,
        error=proc.error if proc.exit_code == 2 else None,
        sources=sources,
        timed_out=proc.timed_out,
    )


def _fresh_dir(run_dir: Path, runs_dir: Path) -> None:
    # A key used again (a retried request) starts clean: stale artifacts would be read as this run's.
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    old = sorted((d for d in runs_dir.iterdir() if d.is_dir()), key=lambda d: d.stat().st_mtime)
    for stale in old[:-_KEEP_RUNS]:
        shutil.rmtree(stale, ignore_errors=True)
