"""The Orchestrator port over Airflow's stable REST API: `/api/v2` (Airflow 3) or `/api/v1` (Airflow 2).

Followed runs are polled with ONE `POST /dags/~/dagRuns/list` per tick, not one GET per run. How a request
is authenticated, retried and turned into a user-safe error lives in airflow_http.py and airflow_auth.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import SecretStr

from bot.adapters.orchestrator.airflow_auth import Connection, password_connector, public_url
from bot.adapters.orchestrator.airflow_http import AirflowHttp, Json
from bot.adapters.orchestrator.airflow_json import run_state, schedule_of, task_state
from bot.adapters.orchestrator.airflow_params import params_from_details
from bot.adapters.orchestrator.airflow_runs import backfill, iso, link_target, runs_on
from bot.adapters.orchestrator.day_runs import run_each_day
from bot.foundation.ports import (
    BackendUnavailable,
    BackfillOptions,
    DagParam,
    DagRunRef,
    DagSchedule,
    RunAlreadyExists,
    RunReport,
    RunState,
    TaskState,
)
from bot.foundation.settings import Settings

_EPOCH = datetime.fromtimestamp(0, UTC)


class AirflowOrchestrator:
    def __init__(self, http: AirflowHttp, *, environment: str) -> None:
        self.environment = environment  # shown on confirmation cards
        self.http = http

    @classmethod
    def from_settings(cls, settings: Settings) -> AirflowOrchestrator:
        url, username, password = settings.airflow_url, settings.airflow_username, settings.airflow_password
        if not (url and username and password):
            raise ValueError(
                "orchestrator=airflow needs AMD_AIRFLOW_URL, AMD_AIRFLOW_USERNAME and AMD_AIRFLOW_PASSWORD"
            )
        return cls.with_password(url, username, password, timeout_s=settings.airflow_timeout_s)

    @classmethod
    def with_password(
        cls, url: str, username: str, password: SecretStr, **options: Any
    ) -> AirflowOrchestrator:
        """Open-source Airflow 2 or 3; `options` tune the HTTP client (see AirflowHttp)."""
        http = AirflowHttp(password_connector(url, username, password), where=public_url(url), **options)
        return cls(http, environment=f"airflow: {public_url(url)}")

    async def list_dags(self) -> list[str]:
        return [d["dag_id"] for d in await self.http.get_all(("dags",), "dags", action="list DAGs")]

    async def dag_params(self, dag_id: str) -> list[DagParam]:
        reply = await self.http.call(
            "GET", ("dags", dag_id, "details"), action=f"read the params of {dag_id}"
        )
        return params_from_details(reply.body)

    async def trigger(
        self,
        dag_id: str,
        run_id: str,
        conf: Mapping[str, Any],
        logical_date: datetime | None,
        *,
        note: str | None = None,
    ) -> RunState:
        body: Json = {"dag_run_id": run_id, "conf": dict(conf)}
        # Airflow 3 requires the key (null: no logical date) and rejects unknown keys (422); Airflow 2
        # refuses null (400) and takes "now" when the key is missing.
        if logical_date is not None or (await self.http.connection()).api == "v2":
            body["logical_date"] = iso(logical_date)
        if note is not None:
            body["note"] = note
        # Retrying is safe because the id is ours: an attempt that did land turns the retry into a 409.
        reply = await self.http.call(
            "POST", ("dags", dag_id, "dagRuns"), payload=body, expect={409}, action=f"trigger DAG {dag_id}"
        )
        if reply.status != 409:
            return run_state(reply.conn, reply.body)
        existing = await self.get_run(DagRunRef(dag_id, run_id))
        if existing is None:  # Airflow 2 also answers 409 for a second run at the same logical date
            raise BackendUnavailable(
                f"Airflow at {public_url(reply.conn.base_url)} refused run {run_id} of DAG {dag_id}: "
                "another run has the same logical date"
            )
        raise RunAlreadyExists(existing)

    async def runs_on(self, dag_id: str, days: Sequence[datetime]) -> list[RunState]:
        return [run_state(conn, raw) for conn, raw in await runs_on(self.http, dag_id, days)]

    async def backfill(
        self,
        dag_id: str,
        days: Sequence[datetime],
        conf: Mapping[str, Any],
        key: str,
        options: BackfillOptions,
    ) -> None:
        if not days:
            return
        if await self.backfills_natively():
            await backfill(self.http, dag_id, days, conf, options)
        else:
            await run_each_day(self, dag_id, days, conf, key, options)

    async def backfills_natively(self) -> bool:
        return (await self.http.connection()).api == "v2"

    async def run_again(self, ref: DagRunRef) -> None:
        body = {"dag_run_id": ref.run_id, "only_failed": False, "dry_run": False, "reset_dag_runs": True}
        await self.http.call(
            "POST",
            ("dags", ref.dag_id, "clearTaskInstances"),
            payload=body,
            retry=False,  # as clear_failed: a clear that landed and its retry would run the tasks twice
            action=f"run run {ref.run_id} of DAG {ref.dag_id} again",
        )

    async def run_of_link(self, url: str) -> tuple[str, str | None] | None:
        return link_target(public_url((await self.http.connection()).base_url), url)

    async def get_run(self, ref: DagRunRef) -> RunState | None:
        """One run by id (one GET); None when Airflow does not know it."""
        reply = await self.http.call(
            "GET", ("dags", ref.dag_id, "dagRuns", ref.run_id), expect={404}, action=f"read run {ref.run_id}"
        )
        return None if reply.status == 404 else run_state(reply.conn, reply.body)

    async def get_runs(self, refs: Sequence[DagRunRef]) -> list[RunState]:
        """Many runs with one POST /dags/~/dagRuns/list per page of 100; the order follows `refs`.

        A run missing from the answer is gone from Airflow: stop following it, since looking for it
        reads every page of its DAG's runs.
        """
        wanted = set(refs)
        found: dict[DagRunRef, RunState] = {}
        if wanted:
            async for page in self._run_pages([r.dag_id for r in refs], self.http.page_limit):
                found.update((run.ref, run) for run in page if run.ref in wanted)
                if len(found) == len(wanted):
                    break
        return [found[ref] for ref in dict.fromkeys(refs) if ref in found]

    async def latest_runs(self, dag_ids: Sequence[str], limit: int) -> list[RunState]:
        """The `limit` newest runs across `dag_ids`, newest first."""
        runs: list[RunState] = []
        if dag_ids and limit > 0:
            async for page in self._run_pages(dag_ids, min(limit, self.http.page_limit)):
                runs.extend(page)
                if len(runs) >= limit:
                    break
        return runs[:limit]

    async def runs_ended_since(self, dag_ids: Sequence[str], since: datetime) -> list[RunReport]:
        """One `dagRuns/list` for every DAG (every page of 100), then, only when a run failed, one
        `taskInstances/list` for the failed tasks of all of them (both filter by end date server side)."""
        if not dag_ids:
            return []
        # Oldest end first: a run that ends while we page lands on a later page, never before the offset.
        body: Json = {
            "dag_ids": list(dict.fromkeys(dag_ids)),
            "end_date_gte": iso(since),
            "order_by": "end_date",
        }
        runs = list({run.ref: run for run in await self._runs(body)}.values())
        failed = {run.ref for run in runs if run.state == "failed"}
        tasks: dict[DagRunRef, set[str]] = {}
        if failed:
            query: Json = {
                "dag_ids": sorted({ref.dag_id for ref in failed}),
                "state": ["failed"],
                "end_date_gte": iso(since),
            }
            path = ("dags", "~", "dagRuns", "~", "taskInstances", "list")
            async for raw in self._pages(path, query, "task_instances", "list failed tasks"):
                for _conn, ti in raw:
                    tasks.setdefault(DagRunRef(ti["dag_id"], ti["dag_run_id"]), set()).add(ti["task_id"])
        return [RunReport(run, tuple(sorted(tasks.get(run.ref, ())))) for run in runs]

    async def active_runs(self, dag_ids: Sequence[str]) -> list[RunState]:
        return await self._runs({"dag_ids": list(dict.fromkeys(dag_ids)), "states": ["queued", "running"]})

    async def dag_schedules(self, dag_ids: Sequence[str]) -> list[DagSchedule]:
        """Every DAG's `GET /dags` entry (paged): one call for all, as the list is the same either way."""
        wanted = set(dag_ids)
        dags = await self.http.get_all(("dags",), "dags", action="list DAGs")
        api = (await self.http.connection()).api
        return [schedule_of(api, dag) for dag in dags if dag["dag_id"] in wanted]

    async def task_states(self, ref: DagRunRef) -> list[TaskState]:
        """In the order they started (not started yet: last, by task id)."""
        path = ("dags", ref.dag_id, "dagRuns", ref.run_id, "taskInstances")
        action = f"read the tasks of run {ref.run_id}"
        instances = await self.http.get_all(path, "task_instances", action=action)
        conn = await self.http.connection()
        tasks = [task_state(conn, ti) for ti in instances]
        return sorted(tasks, key=lambda t: (t.started_at is None, t.started_at or _EPOCH, t.task_id))

    async def clear_failed(self, ref: DagRunRef) -> list[str]:
        body = {"dag_run_id": ref.run_id, "only_failed": True, "dry_run": False, "reset_dag_runs": True}
        # Not retried: after a clear that landed, a repeat finds nothing failed and would report nothing.
        reply = await self.http.call(
            "POST",
            ("dags", ref.dag_id, "clearTaskInstances"),
            payload=body,
            retry=False,
            action=f"clear the failed tasks of run {ref.run_id} of DAG {ref.dag_id}",
        )
        return sorted({ti["task_id"] for ti in reply.body["task_instances"]})

    async def close(self) -> None:
        await self.http.close()

    async def _run_pages(self, dag_ids: Sequence[str], page_limit: int) -> AsyncIterator[list[RunState]]:
        # Newest first: runs created while we page push older ones down: a run may repeat, never go missing.
        body: Json = {"dag_ids": list(dict.fromkeys(dag_ids)), "order_by": "-id", "page_limit": page_limit}
        async for page in self._pages(("dags", "~", "dagRuns", "list"), body, "dag_runs", "list runs"):
            yield [run_state(conn, raw) for conn, raw in page]

    async def _runs(self, body: Json) -> list[RunState]:
        if not body["dag_ids"]:
            return []
        pages = self._pages(("dags", "~", "dagRuns", "list"), body, "dag_runs", "list runs")
        return [run_state(conn, raw) async for page in pages for conn, raw in page]

    async def _pages(
        self, path: Sequence[str], body: Json, key: str, action: str
    ) -> AsyncIterator[list[tuple[Connection, Json]]]:
        """A batch `…/list` POST, page after page until `total_entries` are read."""
        body = {"page_limit": self.http.page_limit, **body}
        offset = 0
        while True:
            reply = await self.http.call("POST", path, payload={**body, "page_offset": offset}, action=action)
            page = reply.body[key]
            yield [(reply.conn, raw) for raw in page]
            offset += len(page)  # servers cap page_limit at their maximum, so count what came back
            if not page or offset >= reply.body.get("total_entries", 0):
                return
