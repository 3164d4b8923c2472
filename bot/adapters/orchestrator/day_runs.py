"""A backfill where the orchestrator has no backfill of its own (Airflow 2, Composer 2, the local runner):
a run for each day that has none, and the runs the options pick run again, as the same runs.

A new run's id derives from the confirmation's (`<key>__<day>`), so a repeat makes no second run. Airflow 2
keeps one run per logical date, so "again" can only be the same run cleared, which is also what
Airflow 3's backfill does with a day it reprocesses. `max_active_runs` has no meaning here: every run is
made at once and the DAG's own `max_active_runs` decides how many of them run together.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import suppress
from datetime import datetime
from typing import Any, Protocol

from bot.foundation.ports import BackfillOptions, DagRunRef, RunAlreadyExists, RunState


class DayRunner(Protocol):
    async def runs_on(self, dag_id: str, days: Sequence[datetime]) -> list[RunState]: ...

    async def trigger(
        self, dag_id: str, run_id: str, conf: Mapping[str, Any], logical_date: datetime | None
    ) -> RunState: ...

    async def run_again(self, ref: DagRunRef) -> None:
        """Every task of a finished run again, as the same run (Airflow: clear it)."""


async def run_each_day(
    orchestrator: DayRunner,
    dag: str,
    days: Sequence[datetime],
    conf: Mapping[str, Any],
    key: str,
    options: BackfillOptions,
) -> None:
    existing = await orchestrator.runs_on(dag, days)
    for run in options.again(existing):
        await orchestrator.run_again(run.ref)
    have = {r.logical_date for r in existing}
    for day in days:
        if day not in have:
            with suppress(RunAlreadyExists):  # made by an earlier press: its run stands
                await orchestrator.trigger(dag, f"{key}__{day:%Y-%m-%d}", conf, day)
