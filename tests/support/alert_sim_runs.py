"""The orchestrator of a simulated schedule (tests/support/alert_sim.py): DAGs whose runs fail, are
fixed again (a failure and its fix in one read window: *failed and recovered*) and get paused, on a
clock of its own skewed up to ±10 min against the replicas'. The replicas read it through the real
watcher (bot/alerts/watch.py) and the Orchestrator port; what they recorded must show every failed run
as an incident, open or recovered, naming it, and every paused DAG as a `paused` incident until it is
resumed.

In-test rather than the local runner's records (bot/adapters/orchestrator/local_records.py): those are
loaded once per process and their DAGs are the demo manifest's, where a schedule needs DAGs of its
own (one store may hold many schedules) whose runs change between the replicas' ticks.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.foundation.ports import DagSchedule, RunReport, RunState
from bot.state.incidents import Incident, Incidents


class SimOrchestrator:
    """The watcher's side of the Orchestrator port: the DAGs, their finished runs in the order they
    ended, their schedules (hourly, its scheduler never late: nothing is missing) and none running."""

    environment = "sim"

    def __init__(self, dags: Sequence[str], skew_s: float, now: datetime) -> None:
        self.dags, self.skew = list(dags), timedelta(seconds=skew_s)
        self.clock = now + self.skew  # the orchestrator's own time: every date it gives is on it
        self.runs: list[RunReport] = []
        self.paused: dict[str, datetime] = {}  # DAG -> since when, by its clock

    async def list_dags(self) -> list[str]:
        await asyncio.sleep(0)  # an await, as a call is: a replica may die here
        return list(self.dags)

    async def runs_ended_since(self, dag_ids: Sequence[str], since: datetime) -> list[RunReport]:
        await asyncio.sleep(0)
        wanted = set(dag_ids)
        return [r for r in self.runs if r.run.dag_id in wanted and r.run.ended_at and r.run.ended_at >= since]

    async def active_runs(self, dag_ids: Sequence[str]) -> list[RunState]:
        await asyncio.sleep(0)
        return []

    async def dag_schedules(self, dag_ids: Sequence[str]) -> list[DagSchedule]:
        await asyncio.sleep(0)
        due = self.clock.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        return [DagSchedule(d, d in self.paused, self.paused.get(d), due) for d in dag_ids if d in self.dags]

    def change(self, rng: random.Random, now: datetime) -> None:
        """Time passes on the orchestrator's clock, and one of its DAGs changes: a run fails, fails and
        is fixed, succeeds, or the DAG is paused or resumed (a paused DAG's runs do not start)."""
        last = self.clock
        self.clock = now + self.skew
        dag = rng.choice(self.dags)
        roll = rng.random()
        if dag in self.paused:
            if roll < 0.4:
                del self.paused[dag]
            return
        if roll < 0.15:
            self.paused[dag] = self.clock - timedelta(
                seconds=rng.uniform(0, (self.clock - last).total_seconds())
            )
            return
        states = ("failed",) if roll < 0.5 else ("failed", "success") if roll < 0.75 else ("success",)
        ends = sorted(last + (self.clock - last) * rng.random() for _ in states)
        for state, ended in zip(states, ends, strict=True):
            run = RunState(dag, f"scheduled__{ended:%Y%m%dT%H%M%S.%f}", state, ended, ended, ended)
            self.runs.append(RunReport(run, ("load",) if state == "failed" else ()))


@dataclass
class Named:
    """The failed runs (DAG, run id) the run incidents have named, read from the store after each round
    of ticks: a later failure of the same DAG replaces the incident's run id."""

    failed: set[tuple[str, str]] = field(default_factory=set)

    async def read(self, store: Incidents, dags: Sequence[str], since: datetime) -> dict[str, Incident]:
        """The incidents of `dags` not resolved before `since` (a replica's clock may be behind it)."""
        found = {i.key: i for i in await store.all(since=since - timedelta(days=1)) if i.dag in dags}
        for incident in found.values():
            if incident.kind == "run":
                runs = [incident.detail.get("run_id"), *incident.detail.get("earlier_failed_runs", [])]
                self.failed |= {(incident.subject, str(r)) for r in runs if r}
        return found


def check_runs(orchestrator: SimOrchestrator, named: Named, incidents: dict[str, Incident]) -> list[str]:
    """Every failed run named by its DAG's incident; the incident open when the DAG's newest run failed,
    recovered by a later success when it succeeded; a paused DAG a `paused` incident, a running one not."""
    bad = [
        f"{r.run.dag_id}: failed run {r.run.run_id} never an incident"
        for r in orchestrator.runs
        if r.run.state == "failed" and (r.run.dag_id, r.run.run_id) not in named.failed
    ]
    for dag in orchestrator.dags:
        paused = incidents.get(f"paused:{dag}")
        if dag in orchestrator.paused and (paused is None or paused.state == "resolved"):
            bad.append(f"{dag}: paused since {orchestrator.paused[dag]:%H:%M:%S}, no open `paused` incident")
        elif dag not in orchestrator.paused and paused is not None and paused.state != "resolved":
            bad.append(f"{dag}: resumed, its `paused` incident is {paused.state}")
        runs = [r.run for r in orchestrator.runs if r.run.dag_id == dag]
        incident = incidents.get(f"run:{dag}")
        failed = [r for r in runs if r.state == "failed"]
        if not failed:
            continue
        if incident is None:
            bad.append(f"{dag}: {len(failed)} failed run(s), no incident")
        elif runs[-1].state == "failed" and incident.state == "resolved":
            bad.append(f"{dag}: its newest run {runs[-1].run_id} failed, its incident is resolved")
        elif runs[-1].state == "failed" and incident.detail.get("run_id") != runs[-1].run_id:
            bad.append(f"{dag}: its incident names {incident.detail.get('run_id')}, not {runs[-1].run_id}")
        elif runs[-1].state == "success" and incident.state != "resolved":
            bad.append(f"{dag}: fixed by {runs[-1].run_id}, its incident is {incident.state}")
        elif runs[-1].state == "success":
            fixes = {r.run_id for r in runs if r.state == "success" and r.ended_at > failed[-1].ended_at}
            if incident.detail.get("recovered_run_id") not in fixes:
                bad.append(
                    f"{dag}: recovered by {incident.detail.get('recovered_run_id')}, not one of {fixes}"
                )
    return bad
