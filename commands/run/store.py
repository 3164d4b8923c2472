"""The confirmations of `/amd run`, stored in amd_run_confirmations (shared by every replica).

A confirmation's Airflow dag_run_id is derived from its id, so however often Trigger is pressed the
orchestrator starts one run; the row leaves `pending` once, by a compare-and-set update. It is dated,
and expires, by the state store's clock: asked on one replica and pressed on another whose clock is
minutes apart, it lives its time to live all the same.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.foundation.ports import BackfillOptions, Reprocess
from bot.state.clock import db_time
from bot.state.schema import run_confirmations

ConfirmationKind = Literal["trigger", "rerun", "backfill"]
ConfirmationState = Literal["pending", "triggered", "cancelled", "expired"]
_C = run_confirmations.c


@dataclass(frozen=True)
class Confirmation:
    id: str
    kind: ConfirmationKind
    dag: str
    conf: Mapping[str, Any]
    logical_date: datetime | None
    requester: str
    channel: str
    created_at: datetime
    expires_at: datetime
    state: ConfirmationState
    dag_run_id: str
    decided_by: str | None = None
    logical_date_end: datetime | None = None  # a backfill's last day; logical_date is its first
    reprocess: Reprocess | None = None  # a backfill's options
    max_active_runs: int | None = None
    lapsed: bool = False  # expired by the store's clock when read (still `pending` until decided so)

    @property
    def options(self) -> BackfillOptions:
        return BackfillOptions(self.reprocess or "none", self.max_active_runs)


def new_confirmation(
    *,
    kind: ConfirmationKind,
    dag: str,
    requester: str,
    channel: str,
    now: datetime,
    ttl_s: float,
    conf: Mapping[str, Any] | None = None,
    logical_date: datetime | None = None,
    run_id: str | None = None,  # a re-run's: the run whose failed tasks it clears
    logical_date_end: datetime | None = None,
    options: BackfillOptions | None = None,
) -> Confirmation:
    cid = uuid.uuid4().hex[:16]
    expires = now + timedelta(seconds=ttl_s)
    run_id = run_id or f"amd__{cid}"  # derived: a repeated trigger is refused by the orchestrator
    return Confirmation(
        cid,
        kind,
        dag,
        dict(conf or {}),
        logical_date,
        requester,
        channel,
        now,
        expires,
        "pending",
        run_id,
        logical_date_end=logical_date_end,
        reprocess=options.reprocess if options else None,
        max_active_runs=options.max_active_runs if options else None,
    )


class Confirmations:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def add(self, c: Confirmation) -> Confirmation:
        """Store `c`, dated now by the store's clock with the time to live it was asked with; the
        confirmation as stored."""
        ttl_s = (c.expires_at - c.created_at).total_seconds()
        row = {
            **{k: v for k, v in c.__dict__.items() if k != "lapsed"},
            "conf": dict(c.conf),
            "created_at": db_time(self.engine),
            "expires_at": db_time(self.engine, ago_s=-ttl_s),
        }
        async with self.engine.begin() as conn:
            await conn.execute(insert(run_confirmations).values(row))
        stored = await self.get(c.id)
        assert stored is not None  # just inserted, and only pruned days after it expires
        return stored

    async def get(self, cid: str) -> Confirmation | None:
        lapsed = (_C.expires_at <= db_time(self.engine)).label("lapsed")
        async with self.engine.connect() as conn:
            query = select(run_confirmations, lapsed).where(_C.id == cid)
            row = (await conn.execute(query)).mappings().first()
        return None if row is None else Confirmation(**{**row, "lapsed": bool(row["lapsed"])})

    async def decide(self, cid: str, state: ConfirmationState, *, by: str) -> bool:
        """Move a pending confirmation to `state`; True for exactly one caller. Only an unexpired one
        can be triggered or cancelled, and only an expired one can become `expired`."""
        now = db_time(self.engine)
        in_time = _C.expires_at <= now if state == "expired" else _C.expires_at > now
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(run_confirmations)
                .where(_C.id == cid, _C.state == "pending", in_time)
                .values(state=state, decided_by=by)
            )
        return result.rowcount == 1
