"""Request ids: every log line of one Slack request carries its id, and an unexpected failure is
answered with that id as its reference, so the user's reference finds the whole story in the logs."""

import logging
import re
from collections.abc import Sequence

import pytest
from prometheus_client import REGISTRY

from bot.foundation.logs import RequestIdFilter
from bot.foundation.ports import EntityStats, StatsQuery
from bot.foundation.settings import Settings
from bot.wiring import build_warehouse
from tests.support.bot import running_bot
from tests.support.slow import SlowWarehouse


class BrokenWarehouse(SlowWarehouse):
    """The real warehouse, but counting entities fails as a bug would (not as an outage)."""

    async def entity_stats(self, queries: Sequence[StatsQuery]) -> list[EntityStats]:
        raise RuntimeError("a bug in the warehouse adapter")


def failed_warehouse_calls() -> float:
    labels = {"system": "warehouse", "call": "entity_stats", "outcome": "error"}
    return REGISTRY.get_sample_value("amd_backend_call_seconds_count", labels) or 0.0


async def test_a_failure_is_answered_with_the_request_id_its_log_lines_carry(
    bot_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.handler.addFilter(RequestIdFilter())
    caplog.set_level(logging.DEBUG)
    before = failed_warehouse_calls()
    async with running_bot(bot_settings, warehouse=BrokenWarehouse(build_warehouse(bot_settings), 0)) as bot:
        (answer,) = await bot.answers(await bot.slash("/amd stats"))

    found = re.search(r"reference `([0-9a-f]+)`", answer["text"])
    assert found is not None, answer["text"]
    reference = found.group(1)
    [failure] = [r for r in caplog.records if "command failed" in r.getMessage()]
    assert failure.request_id == reference  # type: ignore[attr-defined]
    of_request = {r.name for r in caplog.records if getattr(r, "request_id", None) == reference}
    assert any(name.startswith("slack_bolt") for name in of_request)  # the dispatch, before the ack
    assert "bot.core.router" in of_request  # the work after it
    assert failed_warehouse_calls() == before + 1
