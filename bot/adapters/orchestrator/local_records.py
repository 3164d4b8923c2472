"""The local runner's run records as the Orchestrator port reads them: every run (in memory, loaded once
from the `run.json` files) and the DAGs, which are the manifest's `meta.dag` groups. Reading only: running
dbt is bot/adapters/orchestrator/local_runner.py, which builds on this."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime

from bot.adapters.orchestrator.local_runs import LocalRun, load_runs, nightly, paused_dags, runs_dir
from bot.foundation.catalog import Catalog
from bot.foundation.ports import BackendUnavailable, DagRunRef, DagSchedule, RunReport, RunState
from bot.foundation.settings import Settings


class LocalRecords:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._dir = runs_dir(settings)
        self._runs: dict[DagRunRef, LocalRun] = {}
        self._loading = asyncio.Lock()
        self._loaded = False
        self._catalog: tuple[float, dict[str, list[str]]] | None = None

    async def list_dags(self) -> list[str]:
        return sorted(await self._dags())

    async def runs_on(self, dag_id: str, days: Sequence[datetime]) -> list[RunState]:
        await self._load()
        wanted = set(days)
        return [
            self._state(r) for r in self._runs.values() if r.dag_id == dag_id and r.logical_date in wanted
        ]

    async def get_runs(self, refs: Sequence[DagRunRef]) -> list[RunState]:
        await self._load()
        return [self._state(self._runs[r]) for r in dict.fromkeys(refs) if r in self._runs]

    async def latest_runs(self, dag_ids: Sequence[str], limit: int) -> list[RunState]:
        await self._load()
        wanted = set(dag_ids)
        runs = sorted(
            (r for r in self._runs.values() if r.dag_id in wanted), key=lambda r: r.created_at, reverse=True
        )
        return [self._state(r) for r in runs[: max(limit, 0)]]

    async def runs_ended_since(self, dag_ids: Sequence[str], since: datetime) -> list[RunReport]:
        await self._load()
        wanted = set(dag_ids)
        ended = [r for r in self._runs.values() if r.dag_id in wanted and r.ended_at and r.ended_at >= since]
        return [
            RunReport(
                self._state(r), tuple(sorted(t.task_id for t in r.tasks.values() if t.state == "failed"))
            )
            for r in sorted(ended, key=lambda r: (r.ended_at, r.created_at))
        ]

    async def active_runs(self, dag_ids: Sequence[str]) -> list[RunState]:
        await self._load()
        wanted = set(dag_ids)
        active = (r for r in self._runs.values() if r.dag_id in wanted and r.state in ("queued", "running"))
        return [self._state(r) for r in active]

    async def dag_schedules(self, dag_ids: Sequence[str]) -> list[DagSchedule]:
        await self._load()
        known = await self._dags()
        paused = await asyncio.to_thread(paused_dags, self._dir)
        runs = list(self._runs.values())
        return [
            nightly(dag, runs, paused)
            if self._settings.uses_demo_project
            else DagSchedule(dag, dag in paused, paused.get(dag))
            for dag in dict.fromkeys(dag_ids)
            if dag in known
        ]

    def _state(self, run: LocalRun) -> RunState:
        return run.state_of(self._log_url(run))

    def _log_url(self, run: LocalRun) -> str:
        return (run.directory / f"attempt-{max(run.attempt, 1)}" / "logs" / "dbt.log").resolve().as_uri()

    async def _load(self) -> None:
        async with self._loading:
            if not self._loaded:
                for run in await asyncio.to_thread(load_runs, self._dir):
                    self._runs.setdefault(DagRunRef(run.dag_id, run.run_id), run)
                self._loaded = True

    async def _dags(self) -> dict[str, list[str]]:
        """DAG id -> model names, re-read when the manifest changes (a deploy, `dbt parse`)."""
        path = self._settings.manifest_path
        try:
            mtime = (await asyncio.to_thread(path.stat)).st_mtime
        except FileNotFoundError as exc:
            raise BackendUnavailable(
                f"No dbt manifest at {path} yet; the demo world builds it on start."
            ) from exc
        if self._catalog is None or self._catalog[0] != mtime:
            catalog = await asyncio.to_thread(Catalog.load, path, {}, self._settings.entities)
            dags = {dag: sorted(e.name for e in entities) for dag, entities in catalog.dags().items()}
            # An entity without `meta.dag` is a DAG of its own: the model and its parents (`+model`).
            for entity in catalog.entities.values():
                if not entity.dag:
                    dags.setdefault(entity.name, [f"+{entity.name}"])
            self._catalog = (mtime, dags)
        return self._catalog[1]
