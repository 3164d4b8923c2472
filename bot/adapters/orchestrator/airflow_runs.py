"""Runs by logical date, and backfills, over Airflow's REST API.

Airflow 3 backfills with ONE `POST /api/v2/backfills` (it makes a run per scheduled date, and runs the dates
that have one again as its reprocess_behavior says). Airflow 2's API has no backfill: day_runs.py makes one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from bot.adapters.orchestrator.airflow_auth import Connection
from bot.adapters.orchestrator.airflow_http import AirflowHttp, Json
from bot.foundation.ports import BackendUnavailable, BackfillOptions


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    # Airflow needs an aware timestamp; a naive one here means UTC, like everything else in the bot.
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


async def runs_on(http: AirflowHttp, dag_id: str, days: Sequence[datetime]) -> list[tuple[Connection, Json]]:
    """The DAG's runs at these logical dates: list calls filtered to the range, kept when on one of them."""
    if not days:
        return []
    field = "logical_date" if (await http.connection()).api == "v2" else "execution_date"
    body: Json = {
        "dag_ids": [dag_id],
        f"{field}_gte": iso(min(days)),
        f"{field}_lte": iso(max(days)),
        "page_limit": http.page_limit,
    }
    wanted = {d if d.tzinfo else d.replace(tzinfo=UTC) for d in days}
    found: list[tuple[Connection, Json]] = []
    offset = 0
    while True:
        payload = {**body, "page_offset": offset}
        path = ("dags", "~", "dagRuns", "list")
        reply = await http.call("POST", path, payload=payload, action=f"list the runs of {dag_id}")
        page = reply.body["dag_runs"]
        found += [(reply.conn, r) for r in page if _logical(r) in wanted]
        offset += len(page)
        if not page or offset >= reply.body.get("total_entries", 0):
            return found


async def backfill(
    http: AirflowHttp,
    dag_id: str,
    days: Sequence[datetime],
    conf: Mapping[str, Any],
    options: BackfillOptions,
) -> None:
    """Airflow 3's ONE backfill of the range, which picks the days to run itself, by `options`."""
    body: Json = {
        "dag_id": dag_id,
        "from_date": iso(min(days)),
        "to_date": iso(max(days)),
        "run_backwards": False,
        "dag_run_conf": dict(conf),
        "reprocess_behavior": options.reprocess,
    }
    if options.max_active_runs is not None:
        body["max_active_runs"] = options.max_active_runs
    reply = await http.call(
        "POST", ("backfills",), payload=body, expect={409}, action=f"backfill DAG {dag_id}"
    )
    if reply.status == 409 and not await _running(http, body):
        raise BackendUnavailable(
            f"Airflow is running another backfill of DAG {dag_id} and runs one per DAG at a time: "
            "press Backfill again when it is done."
        )


async def _running(http: AirflowHttp, body: Json) -> bool:
    """Whether the backfill Airflow runs is this one: a retried POST whose first attempt had landed."""
    dag_id = body["dag_id"]
    reply = await http.call(
        "GET", ("backfills",), params={"dag_id": dag_id}, action=f"read the backfills of DAG {dag_id}"
    )
    return any(
        b.get("completed_at") is None
        and [_moment(b["from_date"]), _moment(b["to_date"])]
        == [_moment(body["from_date"]), _moment(body["to_date"])]
        and (b.get("dag_run_conf") or {}) == body["dag_run_conf"]
        and b.get("reprocess_behavior") == body["reprocess_behavior"]
        for b in reply.body.get("backfills", [])
    )


def _logical(raw: Json) -> datetime | None:
    return _moment(raw.get("logical_date") or raw.get("execution_date"))


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def link_target(base_url: str, url: str) -> tuple[str, str | None] | None:
    """What a link into this Airflow's UI shows: Airflow 3 routes by path (`/dags/D/runs/R/tasks/T`),
    Airflow 2 by query (`/dags/D/grid?dag_run_id=R`). Any other host or path: None."""
    link, base = urlsplit(url), urlsplit(base_url)
    if (link.scheme, link.netloc) != (base.scheme, base.netloc):
        return None
    parts = [unquote(p) for p in link.path.removeprefix(base.path.rstrip("/")).split("/") if p]
    if len(parts) < 2 or parts[0] != "dags":
        return None
    if len(parts) >= 4 and parts[2] == "runs":
        return parts[1], parts[3]
    run = parse_qs(link.query).get("dag_run_id")
    return parts[1], run[0] if run else None
