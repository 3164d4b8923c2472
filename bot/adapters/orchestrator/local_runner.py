"""The Orchestrator port without Airflow: a DAG is the `meta.dag` group of entity models in the dbt
manifest (an entity without one is a DAG of its own, with its parents), and a run is
`dbt build --select <its models>` in a background task.

Run records live in memory and in one `run.json` per run, next to that run's dbt artifacts
(settings.home/dbt/local_runs/<dag>/<run>/); a restart reloads them, and a run that was still going
when the bot stopped is marked failed. Files, not a state-store table: this is the single-process
embedded default, and its artifacts are already on that disk. Builds hold the DuckDB writer lock
(dbt_gate.py) shared with DbtCliRunner, so a build and a `/amd test` never collide on the file.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager, nullcontext
from datetime import UTC, datetime
from typing import Any

from bot.adapters.dbt.artifacts import EventTracker, load_json, nodes_from
from bot.adapters.dbt.cli import run_project_dbt
from bot.adapters.dbt.gate import writer_lock
from bot.adapters.dbt.process import safe_name
from bot.adapters.orchestrator.day_runs import run_each_day
from bot.adapters.orchestrator.local_records import LocalRecords
from bot.adapters.orchestrator.local_runs import (
    LocalRun,
    airflow_state,
    dbt_options,
)
from bot.foundation.ports import (
    BackendUnavailable,
    BackfillOptions,
    DagParam,
    DagRunRef,
    RunAlreadyExists,
    RunState,
    TaskState,
)
from bot.foundation.settings import Settings

# Every local DAG is a `dbt build`, so every one takes the two options of dbt that a run may want.
PARAMS = (
    DagParam("full_refresh", False, "Rebuild incremental models from scratch", {"type": "boolean"}),
    DagParam("vars", {}, "dbt vars, as a JSON object", {"type": "object"}),
)


class LocalRunner(LocalRecords):
    def __init__(self, settings: Settings) -> None:
        self.environment = (
            "local (dbt-duckdb demo)"
            if settings.uses_demo_project
            else f"local (dbt build in {settings.dbt_project_dir.name})"
        )
        super().__init__(settings)
        self._writer = writer_lock(settings)
        self._live: dict[DagRunRef, EventTracker] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def dag_params(self, dag_id: str) -> list[DagParam]:
        if dag_id not in await self._dags():
            raise BackendUnavailable(f"The local runner has no DAG `{dag_id}`.")
        return list(PARAMS)

    async def trigger(
        self, dag_id: str, run_id: str, conf: Mapping[str, Any], logical_date: datetime | None
    ) -> RunState:
        await self._load()
        models = (await self._dags()).get(dag_id)
        if not models:
            raise BackendUnavailable(
                f"The local runner has no DAG `{dag_id}` (no model has meta.dag: {dag_id})."
            )
        ref = DagRunRef(dag_id, run_id)
        if ref in self._runs:  # checked and claimed with no await in between: a double click is a repeat
            raise RunAlreadyExists(self._state(self._runs[ref]))
        run = LocalRun(
            dag_id=dag_id,
            run_id=run_id,
            directory=self._dir / safe_name(dag_id) / safe_name(run_id),
            conf=dict(conf),
            logical_date=logical_date,
            created_at=datetime.now(UTC),
        )
        self._runs[ref] = run
        await asyncio.to_thread(run.save)
        self._start(run, models)
        return self._state(run)

    async def backfill(
        self, dag: str, days: Sequence[datetime], conf: Mapping[str, Any], key: str, options: BackfillOptions
    ) -> None:
        # The builds queue for the one DuckDB writer and run one after the other, whatever max_active_runs.
        await run_each_day(self, dag, days, conf, key, options)

    async def backfills_natively(self) -> bool:
        return False

    async def run_again(self, ref: DagRunRef) -> None:
        await self._load()
        run, models = self._runs.get(ref), (await self._dags()).get(ref.dag_id)
        if run is not None and models and run.state in ("success", "failed"):
            run.state, run.ended_at = "queued", None
            await asyncio.to_thread(run.save)
            self._start(run, models)

    async def run_of_link(self, url: str) -> tuple[str, str | None] | None:
        return None  # its links are local files, which Slack never unfurls

    async def task_states(self, ref: DagRunRef) -> list[TaskState]:
        await self._load()
        run = self._runs.get(ref)
        if run is None:
            return []
        tasks = dict(run.tasks)
        live = self._live.get(ref)
        if live is not None:
            for uid, status in live.statuses.items():
                name = live.names.get(uid, uid)
                tasks[name] = TaskState(
                    name,
                    airflow_state(status),
                    run.attempt,
                    live.started.get(uid),
                    log_url=self._log_url(run),
                )
        return sorted(tasks.values(), key=lambda t: (t.started_at or run.created_at, t.task_id))

    async def clear_failed(self, ref: DagRunRef) -> list[str]:
        """Re-run the failed (and upstream-failed) nodes of a finished run, as the same run."""
        await self._load()
        run = self._runs.get(ref)
        if run is None or run.state not in ("success", "failed"):
            return []
        failed = sorted(t.task_id for t in run.tasks.values() if t.state in ("failed", "upstream_failed"))
        if failed:
            run.state, run.ended_at = "queued", None
            await asyncio.to_thread(run.save)
            self._start(run, failed)
        return failed

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _start(self, run: LocalRun, select: list[str]) -> None:
        task = asyncio.create_task(self._execute(run, select))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _execute(self, run: LocalRun, select: list[str]) -> None:
        ref = DagRunRef(run.dag_id, run.run_id)
        run.attempt += 1
        attempt_dir = run.directory / f"attempt-{run.attempt}"
        tracker = EventTracker()

        async def on_event(event: dict[str, Any]) -> None:
            tracker.feed(event)

        try:
            async with self._admission():
                run.state, run.started_at = "running", run.started_at or datetime.now(UTC)
                self._live[ref] = tracker
                await asyncio.to_thread(run.save)
                proc = await run_project_dbt(
                    self._settings,
                    # Names of this project's nodes, one argv element: dbt splits it into a union.
                    [
                        "build",
                        "--select",
                        " ".join(select),
                        "--indirect-selection",
                        "cautious",
                        *dbt_options(run),
                    ],
                    target_path=attempt_dir / "target",
                    log_path=attempt_dir / "logs",
                    on_event=on_event,
                )
            results = await asyncio.to_thread(load_json, proc.run_results)
            log_url = self._log_url(run)
            for node in nodes_from(results or {}):
                run.tasks[node.name] = TaskState(
                    node.name,
                    airflow_state(node.status),
                    run.attempt,
                    node.started_at,
                    node.ended_at,
                    log_url,
                )
            ok = proc.exit_code == 0 and all(
                t.state not in ("failed", "upstream_failed") for t in run.tasks.values()
            )
            run.state = "success" if ok else "failed"
        except BaseException:
            run.state = "failed"  # cancelled (shutdown) or dbt could not be started
            raise
        finally:
            self._live.pop(ref, None)
            run.ended_at = datetime.now(UTC)
            await asyncio.shield(asyncio.to_thread(run.save))

    def _admission(self) -> AbstractAsyncContextManager[None]:
        return self._writer.hold() if self._writer else nullcontext()
