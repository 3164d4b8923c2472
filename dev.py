#!/usr/bin/env python3
"""Set-up and the two everyday commands, with nothing but Python 3.11+ installed:

    python3 dev.py start   # create .venv, install amd-bot, start it (the local console by default)
    python3 dev.py test    # the same set-up, then ruff, mypy, the import contracts and the whole pytest suite

The virtualenv is (re)installed only when pyproject.toml changed since the last install.
Standard library only: this file runs before anything is installed.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".amd-bot-installed"


def _run(*argv: str | Path) -> None:
    completed = subprocess.run([str(a) for a in argv], cwd=ROOT, check=False)
    if completed.returncode != 0:
        raise SystemExit(completed.returncode)


def ensure_venv() -> None:
    if sys.version_info < (3, 11):
        raise SystemExit(f"amd-bot needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    if not (BIN / "python").exists():
        print("dev.py: creating .venv …", flush=True)
        venv.create(VENV, with_pip=True)
    print("dev.py: installing amd-bot and its dependencies into .venv (about a minute) …", flush=True)
    _run(BIN / "python", "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    _run(BIN / "python", "-m", "pip", "install", "--quiet", "-e", ".[dev]")
    STAMP.write_text(wanted)
    # The venv is not on PATH: a bare `amd-bot` would be "command not found".
    where = BIN.relative_to(ROOT)
    print(f"dev.py: installed as {where / 'amd-bot'} (`source {where / 'activate'}`: on PATH)", flush=True)


def test(extra: list[str]) -> None:
    _run(BIN / "ruff", "check", ".")
    _run(BIN / "ruff", "format", "--check", ".")
    _run(BIN / "mypy")
    _run(BIN / "lint-imports", "--no-cache")
    workers = os.environ.get("AMD_TEST_WORKERS", "2")  # 0: one process, as plain pytest
    _run(BIN / "python", "-m", "pytest", "-n", workers, "--dist", "loadfile", *extra)


def main() -> None:
    what, extra = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else ("", [])
    if what not in {"start", "test"}:
        raise SystemExit(__doc__)
    ensure_venv()
    if what == "start":
        os.execv(BIN / "amd-bot", [str(BIN / "amd-bot"), *extra])
    test(extra)


if __name__ == "__main__":
    main()
