"""The real dbt, started late: a test that must act while a run is going gets a run that takes long
enough, whatever the machine's speed, instead of racing dbt's own few seconds."""

from __future__ import annotations

import sys
from pathlib import Path


def slow_dbt(directory: Path, delay_s: float) -> str:
    """An executable for `settings.dbt_executable`: waits `delay_s`, then becomes dbt (same argv).
    A cancel's SIGINT reaches the wait too: the script runs in dbt's process group."""
    dbt = Path(sys.executable).parent / "dbt"
    script = directory / "slow-dbt"
    script.write_text(f'#!/bin/sh\nsleep {delay_s}\nexec "{dbt}" "$@"\n')
    script.chmod(0o755)
    return str(script)
