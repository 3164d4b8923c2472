"""A question about a past moment ("was payment fresh at 6 this morning?"): answered from the freshness
the failure watcher observed then (bot/state/freshness.py), or plainly "no observation of that time".
Never the present in its place: what is true now says nothing of then."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.core.command import Ctx
from bot.core.stats import EntityStatus
from bot.render import format as fmt
from bot.state.freshness import FreshnessHistory, Sample, Streak
from commands.ask.access import left_out, readable, stats_of
from commands.ask.intent import Answer, Intent, Question
from commands.ask.moments import asks_onset, moment, span

SOURCE = "the freshness the failure watcher observed"
SOURCE_NOW = "the warehouse, and the freshness the failure watcher observed"


def _line(sample: Sample) -> str:
    name = f"`{sample.entity}`"
    seen = f"(observed {fmt.when(sample.observed_at)}"
    load = (
        f"last load then {fmt.when(sample.last_loaded_at)}" if sample.last_loaded_at else "last load unknown"
    )
    sla = fmt.hours(sample.sla_hours)
    if sample.fresh is True:
        return f":white_check_mark: {name} was fresh: {load}, within its {sla} SLA {seen})."
    if sample.fresh is False:
        return f":x: {name} was *stale*: {load}, over its {sla} SLA {seen})."
    return f":grey_question: {name}: {load}; no SLA to judge it by {seen})."


def _within(ctx: Ctx) -> timedelta:
    """How far from the moment an observation still tells of it: about one sweep either side."""
    return timedelta(seconds=max(ctx.backends.settings.alert_poll_s, 300.0))


def _stretch(samples: list[Sample]) -> str:
    """A span's observations of one entity in a line: stale at any of them, and when."""
    stale = [s for s in samples if s.fresh is False]
    name, sla = f"`{samples[0].entity}`", fmt.hours(samples[-1].sla_hours)
    seen = f"{len(samples)} observation{'s' if len(samples) > 1 else ''}"
    if stale:
        when = f"first {_moment(stale[0].observed_at)}, last {_moment(stale[-1].observed_at)}"
        return f":x: {name} was *stale* at {len(stale)} of {seen} ({when}), over its {sla} SLA."
    if all(s.fresh for s in samples):
        return f":white_check_mark: {name} was fresh at each of {seen}, within its {sla} SLA."
    return f":grey_question: {name}: {seen}, with no SLA or last load to judge by."


def _began(status: EntityStatus, streak: Streak | None) -> str:
    """When `status`'s entity last went stale: from the last load and the SLA while it is stale (exact:
    no load has come since), with the sweep that first saw it so; from the observations once it is fresh."""
    name = f"`{status.entity.name}`"
    if status.stale_since is not None:
        since, sla = status.stale_since, fmt.hours(status.entity.freshness_sla_hours)
        loaded = _moment(status.last_loaded_at or since)
        line = f":x: {name} went *stale* {_moment(since)} ({fmt.age(status.as_of - since)} ago): "
        line += f"its last load was {loaded} and its SLA is {sla}."
        if streak is not None and streak.last.fresh is False:
            seen = (
                "first saw it stale" if streak.whole else "saw it stale at every observation kept, the oldest"
            )
            line += f" The failure watcher {seen} {_moment(streak.first.observed_at)}."
        return line
    if status.fresh is None:
        return f":grey_question: {name} has no SLA or no known last load to go stale by."
    if streak is None:
        return f":white_check_mark: {name} is fresh, and stale at none of the observations kept."
    then = f"from {_moment(streak.first.observed_at)} to {_moment(streak.last.observed_at)}"
    return f":white_check_mark: {name} is fresh now; the failure watcher last saw it stale {then}."


async def _onset(question: Question, ctx: Ctx) -> Answer:
    """When staleness began ("when did payment go stale?"): of the entities named, or of every stale one."""
    entities, hidden = readable(ctx, list(ctx.catalog.entities.values()), stats_of)
    statuses = await ctx.backends.stats.status(entities)
    named = [s for s in statuses if s.entity.name in question.subjects.entities]
    shown = named or [s for s in statuses if s.fresh is False]
    if not shown:
        return Answer(("Nothing is stale now.", *left_out(hidden)), SOURCE_NOW, ctx.now(), "stats")
    history = FreshnessHistory(ctx.backends.state.engine)
    lines = []
    for status in shown:
        streak = await history.streak(status.entity.name, None if status.fresh is False else False)
        lines.append(_began(status, streak))
    subject = shown[0].entity.name if len(shown) == 1 else None
    more = f"stats {subject}" if subject else "stats"
    return Answer(
        (*lines, *(left_out(hidden) if not named else ())), SOURCE_NOW, shown[0].as_of, more, subject
    )


async def fetch(question: Question, ctx: Ctx) -> Answer:
    if asks_onset(question.text):
        return await _onset(question, ctx)
    now = ctx.now()
    stretch = span(question.text, now)
    at = stretch[0] if stretch else moment(question.text, now)
    if at is None or at > now:
        lines = ("Which moment do you mean? Name a time, e.g. `was payment fresh at 06:00 today?`.",)
        return Answer(lines, SOURCE, now, "stats")
    history = FreshnessHistory(ctx.backends.state.engine)
    entities, hidden = readable(ctx, list(ctx.catalog.entities.values()), stats_of)
    named = [e for e in entities if e.name in question.subjects.entities] or entities
    more = f"stats {named[0].name}" if len(named) == 1 else "stats"
    subject = named[0].name if len(named) == 1 else None
    if stretch:
        seen = [samples for e in named if (samples := await history.between(e.name, *stretch))]
        shown = [_stretch(samples) for samples in seen]
        then, as_of = f"from {_moment(stretch[0])} to {_moment(stretch[1])}", stretch[1]
    else:
        samples = [s for e in named if (s := await history.at(e.name, at, within=_within(ctx))) is not None]
        shown, then = [_line(s) for s in samples], f"at {_moment(at)}"
        as_of = samples[0].observed_at if samples else now
    if not shown:
        which = f"`{named[0].name}`" if len(named) == 1 else "any entity"
        lines = (
            f"I have no observation of {which} {then}: the failure watcher did not look then "
            "(or that is longer ago than the history is kept). I will not pass today's state off as then's.",
        )
        return Answer(lines, SOURCE, now, more, subject)
    shown += list(left_out(hidden) if len(named) > 1 else ())
    return Answer((f"{then[0].upper()}{then[1:]}:", *shown), SOURCE, as_of, more, subject)


def _moment(at: datetime) -> str:
    return at.strftime("%a %d %b %H:%M %Z").strip()


INTENT = Intent(
    name="history",
    label="Freshness then",
    words=frozenset(),
    phrases=(),
    subject="any",
    fetch=fetch,
)
