"""The README's transcripts, run in README order on a fresh demo home (tests/support/transcripts.py says
how blocks are read and compared). A mismatch shows a unified diff of the normalised text: change the
README in the same commit as the output (the expected lines are the README's, as printed)."""

from __future__ import annotations

import difflib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.foundation.settings import Settings
from demo.world import ensure_demo
from tests.support.demo import isolated_settings
from tests.support.transcripts import Block, blocks, matches, normalise

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


def amd_bot(home: Path, argv: list[str]) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home.parent),  # ~ must not reach the developer's own home
        "AMD_HOME": str(home),
        "NO_COLOR": "1",
    }
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *argv],
        env=env,
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
    for step in block.steps:
        done = amd_bot(home, step.argv)
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
