"""The failure watcher reads the dbt results orchestrator runs kept (AMD_DBT_RESULTS_DIR), with an
injected clock: a run of `amd_payment` on the local runner (not triggered from chat) fails on its test,
and the run_results.json dbt wrote for it is put where the DAG factory's task would have kept it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from bot.adapters.dbt.results_dir import ResultsDir
from bot.alerts.lineage import group
from bot.alerts.tests_seen import RUN_TESTS
from bot.alerts.watch import sweep
from bot.foundation.dbt_port import DbtInvocation
from bot.foundation.dbt_port import TestOutcome as Outcome  # a Test* name pytest would collect
from bot.foundation.ports import DagRunRef, RunState
from bot.foundation.settings import Settings
from bot.runtime import started
from bot.state import results as stored_tests  # a module: pytest would collect its Test* classes
from bot.state.incidents import Incidents
from tests.support.bot import BotHarness, running_bot

RUN_ID = "scheduled__kept-results"
NAME = "non_negative_payment_amount_cents"


class PaymentRun(NamedTuple):
    run: RunState
    results: dict[str, Any]  # the run_results.json dbt wrote for it
    test: str  # the failing test's unique_id

    @property
    def key(self) -> str:
        return f"test:{self.test}"


@pytest.fixture(scope="module")
async def payment_run(demo_settings: Settings) -> PaymentRun:
    async with started(demo_settings) as (backends, _router):
        run = await backends.orchestrator.trigger("amd_payment", RUN_ID, {}, None)
        async with asyncio.timeout(300):
            while not run.finished:
                await asyncio.sleep(0.5)
                (run,) = await backends.orchestrator.get_runs([run.ref])
    assert run.state == "failed"
    runs = demo_settings.home / "dbt" / "local_runs" / "amd_payment"
    written = max(runs.glob("*/attempt-*/target/run_results.json"), key=lambda p: p.stat().st_mtime)
    results = json.loads(written.read_text())
    (failing,) = [r["unique_id"] for r in results["results"] if r["status"] == "fail"]
    assert failing.startswith(f"test.amd.{NAME}.")
    return PaymentRun(run, results, failing)


@pytest.fixture
async def bot(payment_run: PaymentRun, bot_settings: Settings, tmp_path: Path) -> AsyncIterator[BotHarness]:
    settings = bot_settings.model_copy(update={"dbt_results_dir": tmp_path / "data" / "dbt-results"})
    async with running_bot(settings) as harness:
        yield harness


def keep(bot: BotHarness, run: RunState, task_id: str, content: str) -> Path:
    """What the DAG factory's task does after dbt: its run_results.json under <dir>/<dag>/<run>/."""
    root = bot.backends.settings.dbt_results_dir
    assert root is not None
    kept = root / run.dag_id / run.run_id / f"{task_id}.json"
    kept.parent.mkdir(parents=True, exist_ok=True)
    kept.write_text(content)
    return kept


def with_status(results: dict[str, Any], unique_id: str, status: str) -> str:
    changed = [
        {**r, "status": status, "failures": 0 if status == "pass" else r.get("failures")}
        if r["unique_id"] == unique_id
        else r
        for r in results["results"]
    ]
    return json.dumps({**results, "results": changed})


async def test_a_failing_test_in_a_runs_kept_results_is_an_incident_caused_by_that_run(
    bot: BotHarness, payment_run: PaymentRun
) -> None:
    run = payment_run.run
    assert run.ended_at is not None
    keep(bot, run, "test_payment", json.dumps(payment_run.results))

    swept = await sweep(bot.backends, now=run.ended_at + timedelta(minutes=1))

    assert RUN_TESTS not in swept.unreadable
    store = Incidents(bot.backends.state.engine)
    test = await store.get(payment_run.key)
    assert test is not None and test.state == "open"
    assert (test.subject, test.entity, test.owner, test.dag) == (
        NAME,
        "payment",
        "payments-team",
        "amd_payment",
    )
    assert test.channel == "#amd-payments-support"
    assert (test.detail["run_id"], test.detail["task"]) == (RUN_ID, "test_payment")
    assert test.detail["model"] == "model.amd.payment"
    # Only the failing tests are incidents: the run's passing tests and its model are not.
    assert [i.key for i in await store.all() if i.kind == "test"] == [payment_run.key]

    (payments,) = [g for g in group(await store.all(), bot.backends.catalog) if g.root.dag == "amd_payment"]
    assert payments.root.key == "run:amd_payment"
    assert payments.causes == (NAME,)
    assert payment_run.key in [i.key for i in payments.affected]


async def test_the_task_run_again_and_passing_resolves_the_test_and_an_older_reading_does_not_reopen_it(
    bot: BotHarness, payment_run: PaymentRun
) -> None:
    run, store = payment_run.run, Incidents(bot.backends.state.engine)
    assert run.ended_at is not None
    first = run.ended_at + timedelta(minutes=1)
    kept = keep(bot, run, "test_payment", json.dumps(payment_run.results))
    await sweep(bot.backends, now=first)

    # A retry of the task overwrites its file: the test passed this time.
    kept.write_text(with_status(payment_run.results, payment_run.test, "pass"))
    await sweep(bot.backends, now=first + timedelta(minutes=2))
    resolved = await store.get(payment_run.key)
    assert resolved is not None and resolved.state == "resolved"

    # The newest run is read again while no newer one ended (the mark is the orchestrator's newest end
    # date): a result no newer than the one that resolved the test does not reopen it.
    kept.write_text(json.dumps(payment_run.results))
    later = await sweep(bot.backends, now=first + timedelta(hours=2))
    assert RUN_ID in [r.run_id for r in later.runs]  # with whatever runs other tests left in the demo
    still = await store.get(payment_run.key)
    assert still is not None and still.state == "resolved"


async def test_garbage_and_half_written_files_are_named_and_the_readable_ones_still_count(
    bot: BotHarness, payment_run: PaymentRun
) -> None:
    run = payment_run.run
    assert run.ended_at is not None
    keep(bot, run, "test_payment", json.dumps(payment_run.results))
    keep(bot, run, "run_payment", json.dumps(payment_run.results)[:200])  # cut short
    keep(bot, run, "run_payment_daily", '["not", "run results"]')

    swept = await sweep(bot.backends, now=run.ended_at + timedelta(minutes=1))

    why = swept.unreadable[RUN_TESTS]
    assert f"`amd_payment/{RUN_ID}/run_payment.json`: not JSON (cut short?)" in why
    assert f"`amd_payment/{RUN_ID}/run_payment_daily.json`: not a dbt run_results.json" in why
    found = await Incidents(bot.backends.state.engine).get(payment_run.key)
    assert found is not None and found.state == "open"
    shown = await bot.console("/amd digest preview")
    assert f"could not read the {RUN_TESTS}: `amd_payment/{RUN_ID}/run_payment.json`" in shown.lower()
    assert f"cause: test `{NAME}`" in shown


async def test_a_pass_of_the_bots_own_test_run_in_the_same_sweep_does_not_hide_the_runs_failure(
    bot: BotHarness, payment_run: PaymentRun
) -> None:
    run = payment_run.run
    assert run.ended_at is not None
    keep(bot, run, "test_payment", json.dumps(payment_run.results))
    stored = stored_tests.TestResults(bot.backends.state.engine)
    await stored.started(
        stored_tests.TestRun("t1", "test", "payment", "U1", "C1", None, "running", run.ended_at)
    )
    passed = Outcome(payment_run.test, NAME, "pass", 0, None, "model.amd.payment", None, "error", 0.1)
    done = DbtInvocation("i1", "test", "payment", 0, (passed,), run.ended_at, run.ended_at)
    await stored.finished("t1", done, lambda _model: "payments-team")

    swept = await sweep(bot.backends, now=run.ended_at + timedelta(minutes=1))

    assert payment_run.key not in swept.cleared
    found = await Incidents(bot.backends.state.engine).get(payment_run.key)
    assert found is not None and found.state == "open"


async def test_a_file_over_the_size_cap_is_named_and_skipped_and_the_others_still_count(
    bot: BotHarness, payment_run: PaymentRun
) -> None:
    run = payment_run.run
    assert run.ended_at is not None
    keep(bot, run, "test_payment", json.dumps(payment_run.results))
    huge = {**payment_run.results, "padding": "x" * (51 * 2**20)}  # over the 50 MB default
    keep(bot, run, "run_payment", json.dumps(huge))

    swept = await sweep(bot.backends, now=run.ended_at + timedelta(minutes=1))

    assert (
        f"`amd_payment/{RUN_ID}/run_payment.json`: 51 MB, over AMD_DBT_RESULTS_MAX_MB"
        in (swept.unreadable[RUN_TESTS])
    )
    found = await Incidents(bot.backends.state.engine).get(payment_run.key)
    assert found is not None and found.state == "open"


async def test_a_stalled_read_names_the_directory_and_never_blocks_the_sweep(
    payment_run: PaymentRun, bot_settings: Settings, tmp_path: Path
) -> None:
    root = tmp_path / "dbt-results"
    kept = root / "amd_payment" / RUN_ID / "test_payment.json"
    kept.parent.mkdir(parents=True)
    os.mkfifo(kept)  # opening it blocks until a writer comes: a read hanging on a stalled mount
    settings = bot_settings.model_copy(update={"dbt_results_dir": root, "dbt_results_timeout_s": 1.0})
    assert payment_run.run.ended_at is not None
    now = payment_run.run.ended_at + timedelta(minutes=1)
    try:
        async with running_bot(settings) as bot, asyncio.timeout(60):
            first = await sweep(bot.backends, now=now)
            again = await sweep(bot.backends, now=now + timedelta(minutes=1))
    finally:
        with contextlib.suppress(OSError):  # the hung reader reads an empty file, and its thread ends
            os.close(os.open(kept, os.O_WRONLY | os.O_NONBLOCK))

    assert f"{root}: no answer within 1 s" in first.unreadable[RUN_TESTS]
    assert "orchestrator" not in first.unreadable  # every other source was read
    # The hung thread is not joined by another: the next sweep says the read still has not returned.
    assert f"{root}: a read has not returned for" in again.unreadable[RUN_TESTS]


async def test_a_results_dir_that_is_not_there_is_named_not_taken_for_all_green(
    bot: BotHarness, payment_run: PaymentRun
) -> None:
    assert payment_run.run.ended_at is not None
    swept = await sweep(bot.backends, now=payment_run.run.ended_at + timedelta(minutes=1))

    assert "is not a directory (not mounted?)" in swept.unreadable[RUN_TESTS]
    assert "orchestrator" not in swept.unreadable  # the runs themselves were read


async def test_without_the_setting_nothing_is_read(payment_run: PaymentRun, bot_settings: Settings) -> None:
    assert bot_settings.dbt_results_dir is None
    async with running_bot(bot_settings) as bot:
        assert bot.backends.run_results is None
        assert payment_run.run.ended_at is not None
        swept = await sweep(bot.backends, now=payment_run.run.ended_at + timedelta(minutes=1))
    assert RUN_TESTS not in swept.unreadable
    assert [f.key for f in swept.found if f.kind == "test"] == []


# --- the adapter: ids from the orchestrator never lead out of the directory -------------------------


TEST = f"test.amd.{NAME}.99a95d17a9"
NODES = {TEST: {"name": NAME, "attached_node": "model.amd.payment"}}
FAILED = json.dumps({"results": [{"unique_id": TEST, "status": "fail", "failures": 3}]})


@pytest.mark.parametrize("run_id", ["..", ".", "", "../outside", "a\\b"])
async def test_run_ids_that_are_not_plain_names_are_refused(tmp_path: Path, run_id: str) -> None:
    root = tmp_path / "results"
    (root / "amd_payment").mkdir(parents=True)
    (root / "escaped.json").write_text(FAILED)  # what `amd_payment/..` would reach
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "escaped.json").write_text(FAILED)

    read = await ResultsDir(root).tests_of([DagRunRef("amd_payment", run_id)], NODES)

    assert read.tests == ()
    assert read.unreadable == (f"`amd_payment/{run_id}`: not a name a directory can have",)


async def test_a_file_that_leads_out_of_the_directory_is_not_read(tmp_path: Path) -> None:
    root, outside = tmp_path / "results", tmp_path / "secret.json"
    outside.write_text(FAILED)
    run = DagRunRef("amd_payment", "manual__2026-12-02T08:00:00+00:00")
    (root / run.dag_id / run.run_id).mkdir(parents=True)
    (root / run.dag_id / run.run_id / "test_payment.json").write_text(FAILED)
    os.symlink(outside, root / run.dag_id / run.run_id / "linked.json")

    read = await ResultsDir(root).tests_of([run, DagRunRef("amd_payment", "kept_nothing")], NODES)

    assert [(t.run, t.task_id, t.outcome.name, t.outcome.failures) for t in read.tests] == [
        (run, "test_payment", NAME, 3)
    ]
    assert read.unreadable == (f"`amd_payment/{run.run_id}/linked.json`: outside the results directory",)
