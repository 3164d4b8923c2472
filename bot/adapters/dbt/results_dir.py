"""RunResults from the directory the DAG factory's tasks keep dbt's run_results.json in
(deploy/composer/dag_factory.py): `<root>/<dag_id>/<run_id>/<task_id>.json`. On Composer the root is in
the bucket's `data/` folder, mounted where the bot runs (e.g. GKE's Cloud Storage FUSE driver).

The DAG and run ids come from the orchestrator, not from us: one that is not a plain file name is
refused, and a file that resolves outside the root (a symlink) is not read. A file over the size cap
is named and skipped (every replica reads the same files: one huge file must not run them all out of
memory together). A read that does not return in time (a stalled mount) names the directory as
unreadable and the sweep goes on; its thread cannot be killed, so it is left to finish on its own (a
daemon: it does not hold up the bot's exit), and while it hangs, later reads say so instead of piling
up stuck threads.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections.abc import Mapping, Sequence
from contextlib import suppress
from functools import partial
from pathlib import Path
from typing import Any

from bot.adapters.dbt.artifacts import outcomes_from
from bot.foundation.ports import DagRunRef
from bot.foundation.run_results import RunTest, RunTests

# What a file that is not a run_results.json can make the reader raise (half written, truncated,
# another JSON shape, unreadable bytes).
_NOT_RESULTS = (ValueError, KeyError, TypeError, AttributeError)


class TooBig(ValueError):
    pass


class ResultsDir:
    def __init__(self, root: Path, *, max_mb: float = 50.0, timeout_s: float = 30.0) -> None:
        self._root = root
        self._max_bytes = int(max_mb * 1024 * 1024)
        self._timeout_s = timeout_s
        self._reading: asyncio.Future[RunTests] | None = None  # at most one read at a time
        self._since = 0.0  # when it began (the loop's monotonic clock)

    async def tests_of(self, runs: Sequence[DagRunRef], nodes: Mapping[str, Mapping[str, Any]]) -> RunTests:
        loop = asyncio.get_running_loop()
        if self._reading is not None and not self._reading.done():
            stuck = f"a read has not returned for {loop.time() - self._since:,.0f} s"
            return RunTests(unreadable=(f"{self._root}: {stuck} (stalled mount?)",))
        self._since, self._reading = loop.time(), loop.create_future()
        threading.Thread(
            target=self._read_into, args=(loop, self._reading, runs, {"nodes": nodes}), daemon=True
        ).start()
        try:
            # shield: on timeout the read goes on in its thread, and the next call finds it unfinished.
            return await asyncio.wait_for(asyncio.shield(self._reading), self._timeout_s)
        except TimeoutError:
            why = f"no answer within {self._timeout_s:g} s (AMD_DBT_RESULTS_TIMEOUT_S; stalled mount?)"
            return RunTests(unreadable=(f"{self._root}: {why}",))

    def _read_into(
        self,
        loop: asyncio.AbstractEventLoop,
        into: asyncio.Future[RunTests],
        runs: Sequence[DagRunRef],
        manifest: Mapping[str, Any],
    ) -> None:
        try:
            read = self._read(runs, manifest)
        except Exception as exc:  # handed to the awaiting sweep, which names the source
            settle = partial(_fail, into, exc)
        else:
            settle = partial(_done, into, read)
        with suppress(RuntimeError):  # the loop closed while the read hung: nobody waits any more
            loop.call_soon_threadsafe(settle)

    def _read(self, runs: Sequence[DagRunRef], manifest: Mapping[str, Any]) -> RunTests:
        root = self._root.resolve()
        if not root.is_dir():  # a missing mount must not read as "no test failed"
            return RunTests(unreadable=(f"{self._root} is not a directory (not mounted?)",))
        tests: list[RunTest] = []
        unreadable: list[str] = []
        for run in runs:
            where = f"{run.dag_id}/{run.run_id}"
            if not (_plain(run.dag_id) and _plain(run.run_id)):
                unreadable.append(f"`{where}`: not a name a directory can have")
                continue
            for path in sorted((root / run.dag_id / run.run_id).glob("*.json")):  # none kept: no dir
                try:
                    if not path.resolve().is_relative_to(root):
                        raise PermissionError("outside the results directory")
                    outcomes = outcomes_from(self._load(path), manifest)
                except (OSError, *_NOT_RESULTS) as exc:
                    unreadable.append(f"`{where}/{path.name}`: {_why(exc)}")
                    continue
                tests += (RunTest(run, path.stem, outcome) for outcome in outcomes)
        return RunTests(tuple(tests), tuple(unreadable))

    def _load(self, path: Path) -> dict[str, Any]:
        with path.open("rb") as file:
            size = os.fstat(file.fileno()).st_size
            data = file.read(self._max_bytes + 1)  # never more than the cap in memory, even if it grows
        if len(data) > self._max_bytes:
            raise TooBig(f"{max(size, len(data)) / 2**20:,.0f} MB, over AMD_DBT_RESULTS_MAX_MB: skipped")
        loaded = json.loads(data)
        if not isinstance(loaded, dict):
            raise TypeError("not an object")
        return loaded


def _done(future: asyncio.Future[RunTests], read: RunTests) -> None:
    if not future.done():
        future.set_result(read)


def _fail(future: asyncio.Future[RunTests], exc: Exception) -> None:
    if not future.done():
        future.set_exception(exc)


def _plain(name: str) -> bool:
    return name not in ("", ".", "..") and not any(c in name for c in "/\\\0")


def _why(exc: Exception) -> str:
    if isinstance(exc, (json.JSONDecodeError, UnicodeDecodeError)):
        return "not JSON (cut short?)"
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    if isinstance(exc, TooBig):
        return str(exc)
    return "not a dbt run_results.json"
