"""Which past moment a question names (commands/ask/moments.py), against a fixed clock: a day, a time
of day, both, or a count back from now; and what is a span up to now, not a moment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from commands.ask.moments import asks_about_the_past, asks_onset, moment, span

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
        # a time of a day named, in any tense; a weekday cut short
        ("user freshness at 08:15 today", datetime(2026, 12, 4, 8, 15, tzinfo=UTC)),
        ("payments fresh at 6am wed?", datetime(2026, 12, 2, 6, 0, tzinfo=UTC)),
        # a date in figures, with a time of it, in any tense
        ("was payment fresh on 14.11. at 6?", datetime(2026, 11, 14, 6, 0, tzinfo=UTC)),
        ("delivery_address freshness at 00:00 utc 27.11?", datetime(2026, 11, 27, 0, 0, tzinfo=UTC)),
        ("was user late at 07:30 on 2026-12-01?", datetime(2026, 12, 1, 7, 30, tzinfo=UTC)),
        ("purchase at 9:00 on 25.12.2025, was it fresh?", datetime(2025, 12, 25, 9, 0, tzinfo=UTC)),
        ("was it fresh at 14.30?", datetime(2026, 12, 4, 14, 30, tzinfo=UTC) - timedelta(days=1)),  # a time
        # a day of a month and a clock time after it, no verb: "nov 28 07:45", "2nd dec 6pm"
        ("purchase freshness on nov 28 07:45 utc?", datetime(2026, 11, 28, 7, 45, tzinfo=UTC)),
        ("user sla 2nd dec 6pm", datetime(2026, 12, 2, 18, 0, tzinfo=UTC)),
    ],
)
def test_a_past_moment_is_resolved_against_the_clock(text: str, when: datetime) -> None:
    assert asks_about_the_past(text)
    assert moment(text, NOW) == when and span(text, NOW) is None


@pytest.mark.parametrize(
    ("text", "start", "hours"),
    [
        ("was user stale at any point over the weekend?", datetime(2026, 11, 28, tzinfo=UTC), 48),
        ("was payment stale during the night of the 2nd?", datetime(2026, 12, 2, 22, tzinfo=UTC), 8),
        ("was payment stale on tuesday?", datetime(2026, 12, 1, tzinfo=UTC), 24),
        ("was purchase behind last friday too?", datetime(2026, 11, 27, tzinfo=UTC), 24),
        ("was the address data up to date on the 30th?", datetime(2026, 11, 30, tzinfo=UTC), 24),
        ("was user within its sla on new year's eve?", datetime(2025, 12, 31, tzinfo=UTC), 24),  # a holiday
        ("was payment stale on christmas day?", datetime(2025, 12, 25, tzinfo=UTC), 24),
        ("was purchase behind on 02/12?", datetime(2026, 12, 2, tzinfo=UTC), 24),  # day first
        ("was purchase behind on 11/28?", datetime(2026, 11, 28, tzinfo=UTC), 24),  # a month has 12 at most
        ("did payment breach its SLA during the night?", datetime(2026, 12, 3, 22, tzinfo=UTC), 8),
        ("stale at all today?", None, 0),  # today is not gone yet: not a span of the past
    ],
)
def test_a_past_span_is_a_weekend_a_night_or_a_whole_day(
    text: str, start: datetime | None, hours: int
) -> None:
    assert asks_about_the_past(text) is (start is not None)
    assert span(text, NOW) == (None if start is None else (start, start + timedelta(hours=hours)))


def test_a_moment_said_to_be_gone_needs_no_past_tense() -> None:
    gone = "user fresh at last monday's board meeting (10am)?"
    assert asks_about_the_past(gone) and moment(gone, NOW) == datetime(2026, 11, 30, 10, tzinfo=UTC)
    # a state at a time of day, with no verb to put it now or later ("is it fresh at 9:00" does)
    clock = "purchase at 04:30 utc, fresh or not?"
    assert asks_about_the_past(clock) and moment(clock, NOW) == datetime(2026, 12, 4, 4, 30, tzinfo=UTC)
    assert moment("was user fresh at the start of the week?", NOW) == datetime(2026, 11, 30, 9, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "has payment not loaded since 2 hours ago?",  # a span up to now
        "is payment fresh?",
        "I kicked it off 2 hours ago, is it done?",  # no question about then
        "not updated since yesterday?",
        "will payment be fresh over the weekend?",  # to come, not gone
        "will user be fresh at 9 today?",
        "is purchase fresh by 17:00 today?",  # a deadline
        "will payment be fresh at 09:30?",
        "standup at 10:15, then I need payment fresh",
        "the chart is flat since 4am, did the loads stop?",  # a span up to now
    ],
)
def test_a_span_or_the_present_is_no_past_moment(text: str) -> None:
    assert not asks_about_the_past(text)


@pytest.mark.parametrize(
    "text",
    [
        "when did delivery_address go stale?",
        "when exactly did the addresses first fall behind? need it for the postmortem",
        "when did payment start being late",
        "when has user become out of date?",
        "when did purchase go past its sla",
    ],
)
def test_asked_when_a_staleness_began_the_answer_finds_the_moment(text: str) -> None:
    assert asks_onset(text) and asks_about_the_past(text)
    assert moment(text, NOW) is None and span(text, NOW) is None  # no moment named: the answer's to find


@pytest.mark.parametrize(
    "text", ["when did payment last load?", "is payment going stale?", "when will user go stale?"]
)
def test_a_load_or_a_staleness_to_come_is_no_onset(text: str) -> None:
    assert not asks_onset(text)


def test_an_onset_asked_of_a_day_named_first_is_an_onset() -> None:
    """The answer looks for when the staleness began (commands/ask/intents/history.py), on any day."""
    text = "at what time today did payment first go out of its sla?"
    assert asks_onset(text) and asks_about_the_past(text)
