"""`amd-bot demo nightly`: every DAG of the demo runs once, as the nightly schedule would (not triggered
from chat, so no card follows it). `amd_payment` fails on its test, the others succeed, and
`delivery_address` stays stale: what the failure watcher and `/amd digest preview` then report.

`--night 2026-12-01` runs them for an earlier night: the nightly runs since are then missing, as the
watcher says. `amd-bot demo pause|resume DAG` pauses a demo DAG's schedule, as Airflow's toggle would.
`amd-bot demo fix-payments` corrects the payments the failing test finds, so the next nightly is green."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, date, datetime, time
from typing import Any

import duckdb

from bot.adapters.orchestrator.local_runner import LocalRunner
from bot.adapters.orchestrator.local_runs import runs_dir, set_paused
from bot.foundation.ports import RunState
from bot.foundation.settings import Settings
from bot.runtime import started

POLL_S = 0.5


def add_demo_nightly(demo: Any) -> None:
    """`demo` is the `demo` command's own subparsers."""
    parser = demo.add_parser("nightly", help="run every demo DAG once, as its nightly schedule would")
    parser.add_argument("--night", type=date.fromisoformat, help="the night the runs are for (default: last)")
    parser.set_defaults(migration_handler=demo_nightly)
    for verb, says in (("pause", "pause a demo DAG's schedule"), ("resume", "resume a paused demo DAG")):
        toggle = demo.add_parser(verb, help=says)
        toggle.add_argument("dag")
        toggle.set_defaults(migration_handler=demo_pause, pause=verb == "pause")
    fix = demo.add_parser("fix-payments", help="correct the negative payment amounts the demo's test finds")
    fix.set_defaults(migration_handler=demo_fix_payments)


def demo_nightly(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(nightly(settings, night=args.night))


def demo_pause(args: argparse.Namespace, settings: Settings) -> int:
    known = asyncio.run(LocalRunner(settings).list_dags())
    if args.dag not in known:
        print(f"no demo DAG {args.dag}; the demo's DAGs: {', '.join(known)}", file=sys.stderr)
        return 2
    set_paused(runs_dir(settings), args.dag, datetime.now(UTC) if args.pause else None)
    print(f"{args.dag} {'paused' if args.pause else 'resumed'}")  # the command's answer: stdout
    return 0


def demo_fix_payments(_args: argparse.Namespace, settings: Settings) -> int:
    """The payment service replays its captures with the amounts right: the events with a negative
    amount go, so the next run of `amd_payment` builds and tests clean (a rebuilt world has them again)."""
    with duckdb.connect(str(settings.warehouse_path)) as db:
        deleted = "DELETE FROM raw.events WHERE event_type = 'payment_captured' AND amount_cents < 0"
        (fixed,) = db.execute(deleted).fetchone() or (0,)
    print(f"{fixed} negative payment amounts corrected: the next `amd_payment` run builds them right")
    return 0


async def nightly(settings: Settings, *, now: datetime | None = None, night: date | None = None) -> int:
    """Run each DAG and wait for all of them; the exit code is 0 (the failure is the demo's point)."""
    async with started(settings) as (backends, _router):
        orchestrator = backends.orchestrator
        stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S")
        dags = sorted(backends.catalog.dags())
        # As Airflow's: the logical date is the night the run is for (None: the one just past).
        logical = datetime.combine(night, time(), UTC) if night else None
        runs = [await orchestrator.trigger(dag, f"scheduled__{stamp}", {}, logical) for dag in dags]
        while not all(r.finished for r in runs):
            await asyncio.sleep(POLL_S)
            runs = await orchestrator.get_runs([r.ref for r in runs])
        for run in runs:
            print(_line(run))  # the command's answer: `> file` keeps it
    return 0


def _line(run: RunState) -> str:
    mark = "✓" if run.state == "success" else "✗"
    return f"{mark} {run.dag_id} {run.run_id}: {run.state}"
