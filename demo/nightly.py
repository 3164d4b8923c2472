"""`amd-bot demo nightly`: every DAG of the demo runs once, as the nightly schedule would (not triggered
from chat, so no card follows it). `amd_payment` fails on its test, the others succeed, and
`delivery_address` stays stale: what the failure watcher and `/amd digest preview` then report."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime
from typing import Any

from bot.foundation.ports import RunState
from bot.foundation.settings import Settings
from bot.runtime import started

POLL_S = 0.5


def add_demo_nightly(demo: Any) -> None:
    """`demo` is the `demo` command's own subparsers."""
    parser = demo.add_parser("nightly", help="run every demo DAG once, as its nightly schedule would")
    parser.set_defaults(migration_handler=demo_nightly)


def demo_nightly(_args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(nightly(settings))


async def nightly(settings: Settings, *, now: datetime | None = None) -> int:
    """Run each DAG and wait for all of them; the exit code is 0 (the failure is the demo's point)."""
    async with started(settings) as (backends, _router):
        orchestrator = backends.orchestrator
        stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S")
        dags = sorted(backends.catalog.dags())
        runs = [await orchestrator.trigger(dag, f"scheduled__{stamp}", {}, None) for dag in dags]
        while not all(r.finished for r in runs):
            await asyncio.sleep(POLL_S)
            runs = await orchestrator.get_runs([r.ref for r in runs])
        for run in runs:
            print(_line(run))  # the command's answer: `> file` keeps it
    return 0


def _line(run: RunState) -> str:
    mark = "✓" if run.state == "success" else "✗"
    return f"{mark} {run.dag_id} {run.run_id}: {run.state}"
