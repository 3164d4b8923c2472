"""A stopping process finishes what it took on before it closes its stores: the answer to a Slack
request already acked (and its audit record), a scheduled tick under way. Cut short instead, a task
loses its answer, and one cut while it checks out a pooled connection leaves that connection to the
garbage collector, whose warning went to stderr raw and broke the JSON log stream (a CI run caught it).
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from apscheduler.schedulers.base import STATE_STOPPED

from bot.foundation import logs
from bot.foundation.inflight import InFlight, settled
from bot.foundation.settings import Settings
from bot.runtime import drain
from bot.scheduler import Schedule
from bot.wiring import build_warehouse
from tests.support.bot import running_bot
from tests.support.slow import SlowWarehouse

SLOW_S = 2.0  # the warehouse's delay: the command is still being answered when the stop begins


async def test_a_stop_waits_for_an_acked_command_to_be_answered_and_audited(bot_settings: Settings) -> None:
    warehouse = SlowWarehouse(build_warehouse(bot_settings), SLOW_S)
    async with running_bot(bot_settings, warehouse=warehouse) as bot:
        reply = await bot.slash("/amd stats payment", user="U5")
        assert reply.status == 200
        assert bot.backends.answering.count == 1  # acked, the answer not sent yet

        await drain(bot.backends, grace_s=60)

        assert bot.backends.answering.count == 0
        (answer,) = await bot.answers(reply, timeout=0.1)  # already there: no waiting on it
        assert "payment" in json.dumps(answer)
        audited = await bot.backends.state.recent_audit(command="stats")
        assert [(e.user_id, e.outcome) for e in audited] == [("U5", "ok")]


async def test_a_stop_gives_a_running_tick_its_grace_and_cancels_it_after() -> None:
    ended: list[str] = []

    async def tick(name: str, seconds: float) -> None:
        try:
            await asyncio.sleep(seconds)
            ended.append(name)
        except asyncio.CancelledError:
            ended.append(f"{name} cancelled")
            raise

    schedule = Schedule()
    now = datetime.now(UTC)
    for name, seconds in (("short", 0.5), ("long", 600.0)):
        job = schedule.running.tracked(tick)
        schedule.scheduler.add_job(job, "interval", hours=1, args=(name, seconds), next_run_time=now)
    schedule.scheduler.start()
    async with asyncio.timeout(30):
        while schedule.running.count < 2:
            await asyncio.sleep(0.01)

    await schedule.stop(grace_s=5)

    assert schedule.scheduler.state == STATE_STOPPED
    assert schedule.running.count == 0  # the cancel of the late one landed before stop() returned
    assert ended == ["short", "long cancelled"]


async def test_settled_is_false_while_work_is_under_way_and_true_once_it_ended() -> None:
    work = InFlight()
    with work.one():
        assert not await settled(0.05, work)
    assert await settled(0.05, work)


@pytest.fixture
def json_stream() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    stream = io.StringIO()
    # Another test may have installed logging in this process already: captureWarnings(True) is then a
    # no-op, and pytest's own warning capture stands in between.
    logging.captureWarnings(False)
    logs.install([logging.StreamHandler(stream)], level=logging.INFO, kind="json")
    try:
        yield stream
    finally:
        logging.captureWarnings(False)
        root.handlers[:], _ = saved
        root.setLevel(saved[1])


def test_a_librarys_warning_is_a_json_log_line_too(json_stream: io.StringIO) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("a pooled connection was left to the garbage collector", ResourceWarning, stacklevel=1)

    (line,) = json_stream.getvalue().splitlines()
    record = json.loads(line)
    assert record["logger"] == "py.warnings" and record["level"] == "WARNING"
    assert "left to the garbage collector" in record["message"] and record["request_id"] == "-"
