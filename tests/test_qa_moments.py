"""Which past moment a question names (commands/ask/moments.py), against a fixed clock: a day, a time
of day, both, or a count back from now; and what is a span up to now, not a moment."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from commands.ask.moments import asks_about_the_past, moment

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)  # a Friday, noon


@pytest.mark.parametrize(
    ("text", "when"),
    [
        ("was payment fresh at 6 this morning?", datetime(2026, 12, 4, 6, 0, tzinfo=UTC)),
        ("was it stale at 18:00?", datetime(2026, 12, 3, 18, 0, tzinfo=UTC)),  # the latest 18:00
        ("how stale was user on tuesday morning", datetime(2026, 12, 1, 9, 0, tzinfo=UTC)),
        ("two hours ago, was purchase still behind?", datetime(2026, 12, 4, 10, 0, tzinfo=UTC)),
        ("was payment fresh 30 min ago", datetime(2026, 12, 4, 11, 30, tzinfo=UTC)),
        ("was it fresh an hour ago?", datetime(2026, 12, 4, 11, 0, tzinfo=UTC)),
    ],
)
def test_a_past_moment_is_resolved_against_the_clock(text: str, when: datetime) -> None:
    assert asks_about_the_past(text)
    assert moment(text, NOW) == when


@pytest.mark.parametrize(
    "text",
    [
        "has payment not loaded since 2 hours ago?",  # a span up to now
        "is payment fresh?",
        "I kicked it off 2 hours ago, is it done?",  # no question about then
        "not updated since yesterday?",
    ],
)
def test_a_span_or_the_present_is_no_past_moment(text: str) -> None:
    assert not asks_about_the_past(text)
