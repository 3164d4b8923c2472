"""A transcript's background command (`$ … > FILE &`): a process in its own group, so that stopping it
stops whatever it started too, and so that nothing is left running when a block fails halfway."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path


class Job:
    def __init__(self, argv: list[str], *, env: dict[str, str], cwd: Path, output: Path) -> None:
        self.output = output
        self.errors = output.with_name(f"{output.name}.stderr")  # a file: a pipe nobody reads can fill
        with output.open("w") as out, self.errors.open("w") as err:
            self.process = subprocess.Popen(
                argv, env=env, cwd=cwd, stdout=out, stderr=err, text=True, start_new_session=True
            )

    def stderr(self) -> str:
        return self.errors.read_text()

    def describe(self) -> str:
        return f"its output ({self.output.name}):\n{self.output.read_text()}\nits stderr:\n{self.stderr()}"

    def ready(self, text: str, timeout_s: float) -> None:
        """Return once the output has a line starting with `text`; AssertionError if it ends or times out
        first (a loaded machine copies slowly: the timeout is generous)."""
        deadline = time.monotonic() + timeout_s
        while not any(line.startswith(text) for line in self.output.read_text().splitlines()):
            assert self.process.poll() is None, f"it ended before printing {text!r}; {self.describe()}"
            assert time.monotonic() < deadline, f"no {text!r} after {timeout_s:g} s; {self.describe()}"
            time.sleep(0.1)

    def stop(self, grace_s: float) -> bool:
        """End it: given `grace_s` to end by itself, then SIGTERM, then SIGKILL, always to the whole group.
        True if it ended by itself."""
        try:
            self.process.wait(grace_s)
            by_itself = True
        except subprocess.TimeoutExpired:
            by_itself = False
            self._signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.process.wait()
        self._signal(signal.SIGKILL)  # anything it started and left behind
        return by_itself

    def _signal(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):  # the group is gone already
            os.killpg(self.process.pid, sig)
