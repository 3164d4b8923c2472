"""The README's transcripts, run in README order on a fresh demo home (tests/support/transcripts.py says
how blocks are read and compared). A mismatch shows a unified diff of the normalised text: change the
README in the same commit as the output (the expected lines are the README's, as printed)."""

from __future__ import annotations

import contextlib
import difflib
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.foundation.settings import Settings
from demo.world import ensure_demo
from tests.support.demo import isolated_settings
from tests.support.jobs import Job
from tests.support.transcripts import Block, Step, blocks, matches, normalise

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
# bot/foundation/logs.PLAIN: a log line among the answers means something logged to stderr without -v.
LOG_LINE = re.compile(r"^\d{4}-\d{2}-\d{2} [\d:,]+ (?:DEBUG|INFO|WARNING|ERROR|CRITICAL) ", re.MULTILINE)
BLOCKS = blocks(README.read_text())


@pytest.fixture(scope="module")
async def pristine(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A demo home as the first start builds it, copied for every block that needs a fresh one."""
    settings = isolated_settings(tmp_path_factory.mktemp("readme-pristine"))
    await ensure_demo(settings)
    return settings


class Homes:
    def __init__(self, pristine: Path, scratch: Path) -> None:
        self.pristine, self.scratch, self.count = pristine, scratch, 0
        self.current: Path | None = None

    def fresh(self) -> Path:
        self.count += 1
        self.current = self.scratch / f"home-{self.count}"
        shutil.copytree(self.pristine, self.current)
        return self.current


@pytest.fixture(scope="module")
def homes(pristine: Settings, tmp_path_factory: pytest.TempPathFactory) -> Homes:
    return Homes(pristine.home, tmp_path_factory.mktemp("readme-homes"))


def environment(home: Path) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(home.parent),  # ~ must not reach the developer's own home
        "AMD_HOME": str(home),
        "NO_COLOR": "1",
    }


def amd_bot(home: Path, argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *argv],
        env=environment(home),
        cwd=home.parent,  # no .env of the developer's
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


@pytest.mark.slow
@pytest.mark.parametrize("block", BLOCKS, ids=lambda b: f"README.md:{b.line}")
def test_the_readme_transcript_holds(block: Block, homes: Homes) -> None:
    if block.skip:
        pytest.skip(f"README.md:{block.line}: {block.skip}")
    home = homes.fresh() if block.fresh_home or homes.current is None else homes.current
    for setup in block.after:
        done = amd_bot(home, setup)
        assert done.returncode == 0, done.stderr
    with contextlib.ExitStack() as stack:  # a background job is stopped however the block ends
        jobs: list[Job] = []
        for step in block.steps:
            if step.output is None:
                check(step, amd_bot(home, step.argv))
                continue
            assert not step.expected, f"README.md:{step.line}: a background job's output is in its file"
            job = Job(
                [sys.executable, "-m", "bot.cli", *step.argv],
                env=environment(home),
                cwd=home.parent,
                output=home.parent / step.output,
            )
            stack.callback(job.stop, grace_s=0)
            jobs.append(job)
            if block.ready:
                job.ready(block.ready, timeout_s=300)
        for job in jobs:
            # One that ended while the block ran must have succeeded; one still running is stopped.
            if job.stop(grace_s=3):
                assert job.process.returncode == 0, f"the background job failed; {job.describe()}"
                assert job.stderr() == "", f"the background job wrote to stderr; {job.describe()}"


def check(step: Step, done: subprocess.CompletedProcess[str]) -> None:
    assert not LOG_LINE.search(done.stdout + done.stderr), f"a log line among the answers:\n{done.stderr}"
    # Program output is output: a transcript's answers all come on stdout (`> file` keeps them).
    assert done.stderr == "", f"README.md:{step.line} wrote to stderr:\n{done.stderr}"
    # What a transcript shows is what a terminal shows: both streams (answers are on stdout).
    actual = (done.stdout + done.stderr).splitlines()
    if not matches(step.expected, actual):
        diff = difflib.unified_diff(
            [normalise(e) for e in step.expected],
            [normalise(a) for a in actual],
            f"README.md:{step.line} (normalised)",
            "amd-bot printed (normalised)",
            lineterm="",
        )
        pytest.fail("\n".join(diff) + "\n\nas printed:\n" + "\n".join(actual), pytrace=False)


def test_every_transcript_block_is_found() -> None:
    commands = sum(len(b.steps) for b in BLOCKS)
    assert commands == README.read_text().count("\n$ .venv/bin/amd-bot ")


def test_a_stopped_background_job_leaves_nothing_behind(tmp_path: Path) -> None:
    job = Job(
        ["sh", "-c", "sleep 60 & sleep 60"], env=environment(tmp_path), cwd=tmp_path, output=tmp_path / "out"
    )
    assert not job.stop(grace_s=0)
    assert group_ends(job.process.pid, within_s=5), "its group, with the `sleep` it started, is still there"


def group_ends(group: int, within_s: float) -> bool:
    deadline = time.monotonic() + within_s  # a killed orphan is gone once its new parent has reaped it
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False
