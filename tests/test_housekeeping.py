"""Nothing the bot keeps grows without bound, and a new dbt manifest is picked up without a restart.

Every replica runs the same scheduled housekeeping (bot/scheduler.py): pruning is a delete of what is
past its retention, so running it twice, or on two replicas at once, does no harm.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

import commands
from bot.core.backends import Backends
from bot.foundation.settings import Settings
from bot.scheduler import housekeeping, start_scheduler, watch_manifest
from bot.state.schema import audit_log, claims, processed_events, run_confirmations, test_results, test_runs
from bot.surfaces.console import ConsoleSurface
from bot.wiring import build_backends
from commands.run.store import Confirmation, new_confirmation

NOW = datetime.now(UTC)


@pytest.fixture
async def backends(bot_settings: Settings, tmp_path: Path) -> AsyncIterator[Backends]:
    manifest = tmp_path / "manifest.json"
    shutil.copy(bot_settings.manifest_path, manifest)
    settings = bot_settings.model_copy(
        update={"dbt_manifest": manifest, "retention_days": 30, "event_retention_hours": 24}
    )
    built = await build_backends(settings)
    try:
        yield built
    finally:
        await built.close()


async def count(backends: Backends, table: object) -> int:
    async with backends.state.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())  # type: ignore[arg-type]


async def test_old_events_claims_and_confirmations_are_pruned_and_recent_ones_kept(
    backends: Backends,
) -> None:
    async with backends.state.engine.begin() as conn:
        await conn.execute(
            insert(processed_events),
            [{"event_id": "Ev_OLD", "at": NOW - timedelta(hours=25)}, {"event_id": "Ev_NEW", "at": NOW}],
        )
        await conn.execute(
            insert(claims),
            [
                {"key": "digest:old-window", "at": NOW - timedelta(days=31), "holder": "h"},
                {"key": "digest:this-window", "at": NOW - timedelta(days=1), "holder": "h"},
            ],
        )
        for asked_at in (NOW - timedelta(days=40), NOW):  # as stored then (add() dates it by the store's now)
            asked = new_confirmation(
                kind="trigger", dag="amd_user", requester="U1", channel="C1", now=asked_at, ttl_s=600
            )
            await conn.execute(insert(run_confirmations).values(_row(asked)))

    await housekeeping(backends, now=NOW)
    await housekeeping(backends, now=NOW)  # again (another replica): nothing more to do, no error

    assert not await backends.state.first_time("Ev_NEW")  # a retry of a recent event is still dropped
    assert await backends.state.first_time("Ev_OLD")  # far beyond Slack's retries: forgotten
    assert not await backends.state.claim("digest:this-window")
    assert await backends.state.claim("digest:old-window")
    assert await count(backends, run_confirmations) == 1


def _row(c: Confirmation) -> dict[str, object]:
    return {k: v for k, v in asdict(c).items() if k != "lapsed"}


def _test_run(key: str, status: str, started_at: datetime) -> dict[str, object]:
    return {
        "run_key": key,
        "command": "test",
        "requested_by": "U1",
        "channel": "C1",
        "status": status,
        "counts": {},
        "started_at": started_at,
    }


def _result(key: str, at: datetime) -> dict[str, object]:
    return {
        "run_key": key,
        "unique_id": "test.amd.not_null_user_user_id",
        "invocation_id": "inv",
        "name": "not_null_user_user_id",
        "status": "fail",
        "failures": 1,
        "severity": "error",
        "execution_time": 0.1,
        "requested_by": "U1",
        "at": at,
    }


def _audit(at: datetime) -> dict[str, object]:
    return {
        "at": at,
        "user_id": "U1",
        "channel_id": "C1",
        "command": "run",
        "text": "/amd run user",
        "outcome": "ok",
        "duration_ms": 1,
        "detail": {},
    }


async def test_ended_test_runs_go_with_their_results_and_the_audit_log_keeps_its_own_retention(
    backends: Backends,
) -> None:
    old, recent = NOW - timedelta(days=31), NOW - timedelta(days=1)
    async with backends.state.engine.begin() as conn:
        await conn.execute(
            insert(test_runs),
            [
                _test_run("old", "done", old),
                _test_run("stuck", "running", old),
                _test_run("new", "done", recent),
            ],
        )
        await conn.execute(
            insert(test_results), [_result(k, old) for k in ("old", "stuck")] + [_result("new", recent)]
        )
        # 400 days: past the audit retention (365). 31 days: past everything else's, not the audit's.
        await conn.execute(insert(audit_log), [_audit(NOW - timedelta(days=400)), _audit(old)])

    await housekeeping(backends, now=NOW)

    async with backends.state.engine.connect() as conn:
        runs = set((await conn.execute(select(test_runs.c.run_key))).scalars())
        results = set((await conn.execute(select(test_results.c.run_key))).scalars())
        audited = list((await conn.execute(select(audit_log.c.at))).scalars())
    assert runs == results == {"stuck", "new"}  # a run still going is left to the lost-run sweep
    assert [at.date() for at in audited] == [old.date()]


async def test_housekeeping_and_the_manifest_watch_are_scheduled(backends: Backends) -> None:
    schedule = start_scheduler(backends, ConsoleSurface(lambda _text: None), commands.COMMANDS)
    try:
        assert {"housekeeping", "manifest"} <= {job.id for job in schedule.scheduler.get_jobs()}
    finally:
        await schedule.stop()


async def test_a_changed_manifest_is_picked_up_without_a_restart(backends: Backends) -> None:
    path = backends.settings.manifest_path
    before = backends.catalog
    assert not await watch_manifest(backends)  # unchanged: not even parsed again
    assert backends.catalog is before

    manifest = json.loads(path.read_text())
    payment = next(
        n for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["name"] == "payment"
    )
    payment["config"]["meta"]["aliases"] = ["payouts"]
    path.write_text(json.dumps(manifest))
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000_000))

    assert await watch_manifest(backends)
    assert "payouts" in backends.catalog.entities["payment"].aliases

    path.write_text("{ half-written")  # a deploy copying the file: keep serving the last good catalog
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 2_000_000_000))
    assert not await watch_manifest(backends)
    assert "payouts" in backends.catalog.entities["payment"].aliases
