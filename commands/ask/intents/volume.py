"""How many rows an entity has, how many loaded yesterday, and whether this week's volume is unusual
against its recent daily volume. Rows come from the shared stats; daily volume is cached per entity
for the same TTL, so repeated questions cost no further warehouse query."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta
from statistics import mean

from bot.core.command import Ctx
from bot.core.stats import EntityStatus
from bot.foundation.ports import DailyVolume
from bot.render import format as fmt
from commands.ask.access import left_out, readable, stats_of
from commands.ask.intent import Answer, Intent, Question, phrases
from commands.stats import CHART_DAYS

UNUSUAL = 0.5  # this week's daily mean more than 50 % off the weeks before
_YESTERDAY = re.compile(r"\byesterday\b")
_TREND = re.compile(r"\b(unusual|spike|spikes|drop|dropped|anomal\w*|normal|week|weekly|trend)\b")


async def fetch(question: Question, ctx: Ctx) -> Answer:
    stats = ctx.backends.stats
    entities, hidden = readable(ctx, list(ctx.catalog.entities.values()), stats_of)
    statuses = await stats.status(entities)
    named = [s for s in statuses if s.entity.name in question.subjects.entities]
    if not named:
        lines = (*(f"`{s.entity.name}`: {fmt.count(s.rows)} rows" for s in statuses), *left_out(hidden))
        return Answer(
            lines or ("No entities.",), "the warehouse", statuses[0].as_of if statuses else ctx.now(), "stats"
        )
    status = named[0]
    entity = status.entity
    total = f"`{entity.name}` has {fmt.count(status.rows)} rows"
    wants_day, wants_trend = _YESTERDAY.search(question.text), _TREND.search(question.text)
    if not (wants_day or wants_trend):
        return Answer((f"{total}.",), "the warehouse", status.as_of, f"stats {entity.name}", entity.name)
    if entity.load_column is None:
        lines = (f"{total}; it has no load column (`meta.loaded_at_field`) to count rows by day.",)
        return Answer(lines, "the warehouse", status.as_of, f"stats {entity.name}", entity.name)
    volumes = await stats.daily_volume(entity, CHART_DAYS)
    source = f"the warehouse (rows per day of `{entity.load_column}`, last {CHART_DAYS} days)"
    return Answer(
        _volume_lines(status, volumes, bool(wants_day)),
        source,
        status.as_of,
        f"stats {entity.name}",
        entity.name,
    )


def _volume_lines(status: EntityStatus, volumes: Sequence[DailyVolume], yesterday: bool) -> tuple[str, ...]:
    name = f"`{status.entity.name}`"
    day = status.as_of.date() - timedelta(days=1)
    if yesterday:
        rows = next((v.rows for v in volumes if v.day == day), 0)
        return (f"{name}: {fmt.count(rows)} rows loaded yesterday ({day.isoformat()}).",)
    complete = [v.rows for v in volumes if v.day <= day]
    week, before = complete[-7:], complete[:-7]
    if not before or mean(before) == 0:
        return (f"{name}: {fmt.count(sum(week))} rows in the last 7 days; too little history to compare.",)
    ratio = mean(week) / mean(before)
    verdict = ":warning: unusual" if abs(ratio - 1) > UNUSUAL else ":white_check_mark: within the usual range"
    return (
        f"{name}: {verdict}: {fmt.count(round(mean(week)))} rows a day over the last 7 days against "
        f"{fmt.count(round(mean(before)))} a day in the {len(before)} days before ({ratio:.0%}).",
    )


INTENT = Intent(
    name="volume",
    label="Volume",
    words=frozenset(
        [
            "rows",
            "rowcount",
            "row",
            "count",
            "counts",
            "volume",
            "volumes",
            "size",
            "unusual",
            "spike",
            "spikes",
            "dropped",
            "anomaly",
            "anomalous",
            "few",
            "fewer",
            "less",
            "empty",
            "grow",
            "growing",
            "growth",
            "shrink",
            "shrinking",
            "increase",
            "decrease",
            "jump",
            "trend",
            "trends",
        ]
    ),
    phrases=phrases(
        # "how many times did it fail" counts runs, "how many hours behind" an age, not rows
        r"how (many|much|big|large)(?! (times|retries|runs?|tests?|failures?|attempts?|tasks?|"
        r"incidents?|alerts?|dags?|jobs?|migrations?|columns?|hours|days|minutes|weeks|time)\b)",
        r"records",  # the noun only: "recorded" is no count
        r"number of",
        r"loaded (yesterday|today|this week|last week)",
        # arrivals counted: "how many orders landed since midnight?" (not how fresh they are)
        r"how many (?:\S+ ){1,3}(?:landed|arrived|came in|got loaded|were loaded)\b",
        r"row count",
        r"per (day|hour|week|month)",
    ),
    subject="any",
    fetch=fetch,
)
