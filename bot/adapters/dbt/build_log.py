"""When each entity was last built successfully: the BuildLog of bot.core.stats, from facts only.

Facts are dbt's own run_results.json files — the project's target (what the team's `dbt build` left)
and the local runner's builds — and the orchestrator's latest successful run of an entity's DAG.
A file is read again only when it changed, so asking costs a directory scan.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

from bot.adapters.dbt.artifacts import load_json, nodes_from
from bot.foundation.catalog import Entity
from bot.foundation.ports import BackendUnavailable, Orchestrator
from bot.foundation.settings import Settings

log = logging.getLogger(__name__)

_RUNS_PER_DAG = 10  # how far back in one orchestrator call a DAG's last success is looked for
_BUILT = frozenset({"success"})  # a model's status in run_results when it was built


class BuildLog:
    def __init__(self, settings: Settings, orchestrator: Orchestrator) -> None:
        self._settings = settings
        self._orchestrator = orchestrator
        self._read: dict[Path, tuple[int, dict[str, datetime]]] = {}  # file -> (mtime_ns, builds)

    async def last_builds(self, entities: Sequence[Entity]) -> Mapping[str, datetime]:
        by_uid = await asyncio.to_thread(self._from_run_results)
        by_dag = await self._from_orchestrator(sorted({e.dag for e in entities if e.dag}))
        found: dict[str, datetime] = {}
        for entity in entities:
            moments = [m for m in (by_uid.get(entity.unique_id), by_dag.get(entity.dag or "")) if m]
            if moments:
                found[entity.name] = max(moments)
        return found

    def _files(self) -> list[Path]:
        # `/amd test` runs (settings.home/dbt/runs) build nothing; the local runner's builds do.
        builds = self._settings.home / "dbt" / "local_runs"
        return [
            self._settings.manifest_path.parent / "run_results.json",
            *builds.glob("*/*/attempt-*/target/run_results.json"),
        ]

    def _from_run_results(self) -> dict[str, datetime]:
        newest: dict[str, datetime] = {}
        for path in self._files():
            for uid, moment in self._builds_in(path).items():
                if uid not in newest or moment > newest[uid]:
                    newest[uid] = moment
        return newest

    def _builds_in(self, path: Path) -> dict[str, datetime]:
        try:
            mtime = path.stat().st_mtime_ns
        except FileNotFoundError:
            self._read.pop(path, None)
            return {}
        cached = self._read.get(path)
        if cached is None or cached[0] != mtime:
            try:
                results = load_json(path) or {}
            except ValueError:  # being written by a dbt that is still running: read it next time
                return cached[1] if cached else {}
            builds = {
                n.unique_id: n.ended_at
                for n in nodes_from(results)
                if n.unique_id.startswith("model.") and n.status in _BUILT and n.ended_at
            }
            cached = self._read[path] = (mtime, builds)
        return cached[1]

    async def _from_orchestrator(self, dags: list[str]) -> dict[str, datetime]:
        if not dags:
            return {}
        try:
            runs = await self._orchestrator.latest_runs(dags, _RUNS_PER_DAG * len(dags))
        except BackendUnavailable as exc:
            log.warning("last builds without the orchestrator's runs: %s", exc)
            return {}
        found: dict[str, datetime] = {}
        for run in runs:
            if run.state == "success" and run.ended_at:
                found[run.dag_id] = max(run.ended_at, found.get(run.dag_id, run.ended_at))
        return found
