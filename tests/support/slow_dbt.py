"""The real dbt, started late: a test that must act while a run is going gets a run that takes long
enough, whatever the machine's speed, instead of racing dbt's own few seconds."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path


def slow_dbt(directory: Path, delay_s: float, journal: Path | None = None) -> str:
    """An executable for `settings.dbt_executable`: waits `delay_s`, then runs dbt (same argv). A
    cancel's SIGINT reaches the wait too: the script runs in dbt's process group. With a `journal`,
    each invocation appends `start <pid> <epoch s>` and, when dbt exits, `end <pid> <epoch s>`."""
    dbt = Path(sys.executable).parent / "dbt"
    script = directory / "slow-dbt"
    note = (lambda what: f'echo "{what} $$ $(date +%s.%N)" >> "{journal}"\n') if journal else (lambda _w: "")
    script.write_text(
        f'#!/bin/sh\n{note("start")}sleep {delay_s}\n"{dbt}" "$@"\ncode=$?\n{note("end")}exit $code\n'
    )
    script.chmod(0o755)
    return str(script)


@dataclass(frozen=True)
class Invocation:
    pid: int  # the script's, which leads dbt's process group
    started: float
    ended: float | None


def invocations(journal: Path) -> list[Invocation]:
    """What the journal recorded, in start order."""
    starts: dict[int, float] = {}
    ends: dict[int, float] = {}
    for line in journal.read_text().splitlines() if journal.exists() else ():
        what, pid, at = line.split()
        (starts if what == "start" else ends)[int(pid)] = float(at)
    return sorted((Invocation(pid, at, ends.get(pid)) for pid, at in starts.items()), key=lambda i: i.started)
