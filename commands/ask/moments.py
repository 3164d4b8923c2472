"""A past moment in a question: "was payment fresh at 6 this morning?", "how stale was user on tuesday
morning", "at 08:00 today was anything stale?". Understanding only notes that a question is about one
(`asks_about_the_past`); answering resolves it against the clock (`moment`). Pure: no I/O.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_SHORT_DAYS = "mon|tue|tues|wed|thu|thur|thurs|fri"  # not "sat" or "sun", which are words too
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_CLOCK = re.compile(r"\b(\d{1,2})(?:[:.h](\d\d))?\s*(am|pm)?\b")
_AT = re.compile(
    r"\b(?:at|around|by|@)\s+(?:(noon|midday|midnight)|(\d{1,2}(?:[:.h]\d\d)?\s*(?:am|pm)?))(?!\s*(?:%|rows|h\b))"
)
_BARE_TIME = re.compile(r"\b\d{1,2}[:.]\d\d\b(?!\.(?:\d|\s|$))|\b\d{1,2}\s*(?:am|pm)\b")  # not "14.12."
_DATES = (
    # a date in figures: "2026-12-14", "14.12.", "14.12.2026", "27.03" (no time of day), "14/12"
    r"(\d{4})-(\d{1,2})-(\d{1,2})|(\d{1,2})\.(\d{1,2})\.(\d{4})?|(2[4-9]|3[01])\.(\d{1,2})|"
    r"(\d{1,2})/(\d{1,2})(?:/(\d{4}))?|"
    # a holiday: "on new year's eve", "over christmas"
    r"(christmas eve|christmas day|christmas|boxing day|new year'?s eve|nye|new year'?s day|new year)"
)
_UNGROUPED_DATES = re.sub(r"[(](?![?])", "(?:", _DATES)  # inside another pattern, its groups unnumbered
_DAY = re.compile(
    rf"\b(yesterday|today|this morning|last night|({'|'.join(_WEEKDAYS)}|{_SHORT_DAYS})|"
    rf"({'|'.join(_MONTHS)})[a-z]* (\d{{1,2}})(?:st|nd|rd|th)?|"
    rf"(\d{{1,2}})(?:st|nd|rd|th)? ({'|'.join(_MONTHS)})[a-z]*|"
    r"the (\d{1,2})(?:st|nd|rd|th)|"  # "the night of the 2nd"
    rf"{_DATES})(?!\w)"
)
_HOLIDAYS = {"christmas eve": (12, 24), "christmas": (12, 25), "boxing day": (12, 26), "nye": (12, 31)}
# A day that bounds a span up to now is no past moment: "not updated since yesterday", "looking at
# yesterday's data", "did it load past midnight".
_SPAN = re.compile(rf"\b(?:since|until|till|from|at|past|after) (?:{_DAY.pattern})")
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "ten": 10}
# "two hours ago", "30 min ago": a moment counted back from now (not "since 2 hours ago", a span).
_AGO = re.compile(rf"\b(\d{{1,3}}|{'|'.join(_NUMBERS)}) (hours?|hrs?|h|minutes?|mins?) ago\b")
_PAST = re.compile(r"\b(was|were|did|had|has been|have been)\b")
# Said to be gone, whatever the tense: "user fresh at last monday's meeting?", "stale over the weekend?"
_GONE = re.compile(rf"\blast ({'|'.join(_WEEKDAYS)}|weekend)\b|\bover the weekend\b")
_TIME = r"(?:\d{1,2}(?:[:.h]\d\d)?\s*(?:am|pm)?|noon|midday|midnight)"
_CLOCK_TIME = r"(?:\d{1,2}(?:[:.h]\d\d\s*(?:am|pm)?|\s*(?:am|pm))\b|noon|midnight)"
_GONE_AT = re.compile(
    rf"\b(?:yesterday|last night)(?:,? (?:at|around|by|@))? {_TIME}(?!\s*(?:%|rows|h\b))|"
    rf"\b(?:at |around |@ )?{_TIME}(?: utc| gmt| cet| local)? (?:yesterday|last night)\b|"
    # a time of a day named, earlier today or on a weekday: "purchase freshness at 07:00 today?", "users
    # at 9am tue" (not "by 9 today", a deadline)
    rf"\b(?:at|@) {_TIME}(?: utc| gmt| cet| local)? (?:on )?(?:today|this morning|"
    rf"{'|'.join(_WEEKDAYS)}|{_SHORT_DAYS})\b|"
    # ... or on a date: "delivery_address freshness at 00:00 utc 27.03?"
    rf"\b(?:at|@) {_TIME}(?: utc| gmt| cet| local)?,? (?:on )?(?:the )?(?:{_UNGROUPED_DATES})|"
    # ... or a day of a month with a clock time after it: "purchase freshness on sept 27 09:00 utc?"
    rf"\b(?:{'|'.join(_MONTHS)})[a-z]* \d{{1,2}}(?:st|nd|rd|th)?,? (?:at |@ )?{_CLOCK_TIME}|"
    rf"\b\d{{1,2}}(?:st|nd|rd|th)? (?:{'|'.join(_MONTHS)})[a-z]*,? (?:at |@ )?{_CLOCK_TIME}|"
    # ... or a part of a weekday: "addresses already stale monday morning?"
    rf"\b(?:{'|'.join(_WEEKDAYS)}) (?:morning|afternoon|evening|night)\b"
)
_SINCE = re.compile(rf"\bsince (?:about |around )?{_TIME}")  # up to now: "flat since 4am, did it stop?"
_CLOCK_AT = re.compile(r"(?:\bat|@) (?:\d{1,2}[:.]\d\d\b|\d{1,2} ?(?:am|pm)\b|midnight\b|noon\b)")
_NOW_OR_LATER = re.compile(
    r"\b(is|are|am|will|be|being|get|gets|getting|should|would|can|could|does|do|need)\b"
)
_TO_COME = re.compile(r"\b(will|won't|going to|gonna)\b")  # "will it be fresh over the weekend?"
_WEEKEND = re.compile(r"\bweekend\b")
# A night as a span: "during the night of the 2nd", "at any point overnight", "at any point last night"
_NIGHT = re.compile(
    r"\b(?:during|over|through|all|at any (?:point|time|moment)(?: during)?) (?:the |last )?night\b|"
    r"\bnight of\b|\bovernight\b"
)
_WEEK_START = re.compile(r"\b(?:at )?the (?:start|beginning) of (?:the|this) week\b")
_PARTS = {"morning": 9, "noon": 12, "afternoon": 15, "evening": 19, "night": 23}
# When a state began: "when did payment go stale?", "when exactly did the addresses first fall behind?"
_STALE = r"(?:stale|late|behind|out of date|outdated|(?:past|over|out of) (?:its |the )?sla)"
_ONSET = re.compile(
    r"\b(?:when|at what (?:point|time|moment)) (?:exactly |roughly )?(?:today |yesterday |this morning )?"
    r"(?:did|was it that|has|had) .{0,60}?\b"
    r"(?:first |start(?:ed)? )?(?:(?:go|gone|become|turn|get|fall|start being|start to be|start getting|slip|"
    rf"drift) (?:\w+ )?{_STALE}\b|(?:cross|breach|miss|exceed|break|blow) (?:its |the )?(?:\w+ )?sla)"
)


def asks_onset(text: str) -> bool:
    """Asked when a staleness began: a moment the question leaves for the answer to find."""
    return _ONSET.search(text) is not None


# what was promised for a time is no question about it: "why is X still stale, it was supposed to be fixed on
# monday"
_EXPECTED = re.compile(r"\b(?:supposed|meant|expected|promised) to (?:be )?\w+[^,.;?!]*")


def asks_about_the_past(text: str) -> bool:
    """A question in the past tense (or about a time said to be gone) pinned to a time of day, a day
    other than now, or a span of one (a weekend, a night)."""
    # a time of a day gone is past in any tense: "yesterday 23:00 — payment up to date?" (not "fresh since
    # yesterday 23:00?", which asks about now, nor "fresh as of yesterday? the board meets at noon")
    text = _EXPECTED.sub(" ", _SINCE.sub(" ", text))
    gone_at = _GONE_AT.search(_SPAN.sub(" ", text)) and not _TO_COME.search(text)
    if asks_onset(text):
        return True
    # a state at a time of day, with no verb to put it now or later: "purchase fresh at 03:00 utc?"
    verbless = _CLOCK_AT.search(text) and not _NOW_OR_LATER.search(text)
    if not (_PAST.search(text) or gone_at or verbless or (_GONE.search(text) and not _TO_COME.search(text))):
        return False
    text = _SPAN.sub(" ", _WEEK_START.sub(" monday morning ", text))
    if _WEEKEND.search(text) or (_NIGHT.search(text) and not re.search(r"\bsince\b", text)):
        return True
    if _AGO.search(text) and not re.search(r"\bsince\b", text):
        return True
    day = _DAY.search(text)
    named_day = day is not None and day.group(1) not in ("today", "this morning")
    return bool(_AT.search(text) or _BARE_TIME.search(text)) or (
        named_day and day is not None and day.group(1) != "last night"
    )


def span(text: str, now: datetime) -> tuple[datetime, datetime] | None:
    """The stretch of time `text` names, up to now at most: a weekend ("over the weekend": the latest
    Saturday and Sunday), a night ("during the night of the 2nd": 22:00 to 06:00), or a whole day named
    with no time of it ("was payment stale on tuesday?"). None when it names a moment, or nothing."""
    if _AGO.search(text) or _AT.search(text) or _BARE_TIME.search(text):
        return None
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if _WEEKEND.search(text):
        start = midnight - timedelta(days=(now.weekday() - 5) % 7)
        return start, min(start + timedelta(days=2), now)
    day = _day(_SPAN.sub(" ", text), now)
    if _NIGHT.search(text):
        night = (day or now - timedelta(days=1)).replace(hour=22, minute=0, second=0, microsecond=0)
        return night, min(night + timedelta(hours=8), now)
    found = _DAY.search(_SPAN.sub(" ", text))
    parted = any(re.search(rf"\b{word}\b", text) for word in _PARTS)
    if day is None or found is None or found.group(1) in ("today", "this morning") or parted:
        return None
    start = day.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, min(start + timedelta(days=1), now)


def moment(text: str, now: datetime) -> datetime | None:
    """The moment `text` names, in `now`'s time zone; None when it names none. A time of day without a
    day is the latest such time not after now ("at 18:00" asked at 09:00 is yesterday's)."""
    text = _WEEK_START.sub(" monday morning ", text)
    ago = _AGO.search(text)
    if ago is not None:
        count = _NUMBERS.get(ago.group(1)) or int(ago.group(1))
        back = timedelta(hours=count) if ago.group(2).startswith("h") else timedelta(minutes=count)
        return (now - back).replace(second=0, microsecond=0)
    day = _day(text, now)
    at = _AT.search(text)
    if at is not None and at.group(1):
        hour, minute = (0, 0) if at.group(1) == "midnight" else (12, 0)
    else:
        clock = _CLOCK.search(at.group(2)) if at is not None and at.group(2) else _bare(text)
        if clock is not None:
            hour, minute = int(clock.group(1)) % 24, int(clock.group(2) or 0)
            if clock.group(3) == "pm" and hour < 12:
                hour += 12
            elif clock.group(3) == "am" and hour == 12:
                hour = 0
        else:
            part = next((h for word, h in _PARTS.items() if re.search(rf"\b{word}\b", text)), None)
            if part is None and day is None:
                return None
            hour, minute = part if part is not None else 12, 0
    if minute > 59:
        return None
    when = (day or now).replace(hour=hour, minute=minute, second=0, microsecond=0)
    return when - timedelta(days=1) if day is None and when > now else when


def _bare(text: str) -> re.Match[str] | None:
    found = _BARE_TIME.search(text)
    return _CLOCK.search(found.group(0)) if found else None


def _day(text: str, now: datetime) -> datetime | None:
    found = _DAY.search(text)
    if found is None:
        return None
    word = found.group(1)
    if word in ("today", "this morning"):
        return now
    if word in ("yesterday", "last night"):
        return now - timedelta(days=1)
    if found.group(2):
        back = (now.weekday() - [d[:3] for d in _WEEKDAYS].index(found.group(2)[:3])) % 7 or 7
        return now - timedelta(days=back)
    try:
        if found.group(7):  # "the 2nd": of this month, or the last one if still to come
            day = now.replace(day=int(found.group(7)))
            return day if day <= now else (now.replace(day=1) - timedelta(days=1)).replace(day=day.day)
        day = _dated(found, now)
    except ValueError:
        return None
    return (
        day
        if day <= now or found.group(10) or found.group(13) or found.group(18)
        else day.replace(year=now.year - 1)
    )


def _dated(found: re.Match[str], now: datetime) -> datetime:
    """The day of a date written out: in words, in figures (a year written is kept) or a holiday's."""
    if found.group(8):  # 2026-12-14
        return now.replace(year=int(found.group(8)), month=int(found.group(9)), day=int(found.group(10)))
    if found.group(11):  # 14.12. or 14.12.2026
        year = int(found.group(13) or now.year)
        return now.replace(year=year, month=int(found.group(12)), day=int(found.group(11)))
    if found.group(14):  # 27.03
        return now.replace(month=int(found.group(15)), day=int(found.group(14)))
    if found.group(16):  # 14/12 (day first, as in Europe) or 12/14 (a month has at most 12)
        first, second = int(found.group(16)), int(found.group(17))
        day, month = (second, first) if second > 12 else (first, second)
        return now.replace(year=int(found.group(18) or now.year), month=month, day=day)
    if found.group(19):
        holiday = found.group(19).replace("'", "").replace(" day", "")
        month, day = _HOLIDAYS.get(holiday, (12, 31) if holiday.endswith("eve") else (1, 1))
        return now.replace(month=month, day=day)
    named = found.group(3) or found.group(6)
    number = found.group(4) or found.group(5)
    return now.replace(month=_MONTHS.index(named[:3]) + 1, day=int(number))
