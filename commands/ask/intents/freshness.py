"""Is an entity fresh? From the shared stats (one cached warehouse query for every entity)."""

from __future__ import annotations

from bot.core.command import Ctx
from bot.core.stats import EntityStatus
from bot.render import format as fmt
from commands.ask import causes
from commands.ask.access import left_out, readable, stats_of
from commands.ask.intent import Answer, Intent, Question, phrases
from commands.stats import last_load, summary


def line(status: EntityStatus) -> str:
    name, sla = f"`{status.entity.name}`", fmt.hours(status.entity.freshness_sla_hours)
    if status.fresh is True:
        return f":white_check_mark: {name} is fresh: last load {last_load(status)}, within its {sla} SLA."
    if status.fresh is False and status.stale_since is not None:
        owner, since = status.entity.owner or "nobody in dbt", status.stale_since
        over = f"{fmt.age(status.as_of - since)} over its {sla} SLA"
        return f":x: {name} is *stale*: last load {last_load(status)}, {over} (owner: {owner})."
    if status.last_loaded_at is None:
        return f":grey_question: {name}: the last load is {last_load(status)}."
    return (
        f"{name}: last load {last_load(status)}; no freshness SLA (`meta.freshness_sla_hours`) to judge by."
    )


def _basis(status: EntityStatus) -> str:
    column = status.entity.load_column
    return f"load column `{column}`" if status.source == "load column" and column else str(status.source)


async def fetch(question: Question, ctx: Ctx) -> Answer:
    if question.why and question.entity:  # "why is payment stale?": the causes, not the symptom again
        return await causes.answer(ctx.catalog.entities[question.entity], ctx)
    entities, hidden = readable(ctx, list(ctx.catalog.entities.values()), stats_of)
    statuses = await ctx.backends.stats.status(entities)
    named = [s for s in statuses if s.entity.name in question.subjects.entities]
    if named:
        sources = sorted({_basis(s) for s in named if s.source})
        return Answer(
            tuple(line(s) for s in named),
            "the warehouse" + (f" ({', '.join(sources)})" if sources else ""),
            named[0].as_of,
            f"stats {named[0].entity.name}",
            subject=named[0].entity.name,
        )
    verdict, _ = summary(statuses)
    as_of = statuses[0].as_of if statuses else ctx.now()
    return Answer((verdict, *left_out(hidden)), f"the warehouse, {len(statuses)} entities", as_of, "stats")


INTENT = Intent(
    name="freshness",
    label="Freshness",
    words=frozenset(
        [
            "fresh",
            "freshness",
            "stale",
            "behind",
            "late",
            "delayed",
            "delay",
            "lag",
            "lagging",
            "outdated",
            "refreshed",
            "updated",
            "uptodate",
            "arrived",
            "landed",
            "land",
            "loaded",
            "ready",
            "refresh",
            "old",
            "current",
            "newest",
            "synced",
            "sync",
            "ingested",
        ]
    ),
    phrases=phrases(
        r"last (load|loaded|update|updated|refresh|build|built)",
        r"out of date",
        r"up to date",
        r"when was \S+ (last )?(loaded|updated|refreshed)",
        r"(has|have) (the )?\S+ (data )?(been )?(loaded|landed|arrived|refreshed|updated)",
        r"(ok|ready|good) for",
        r"new (data|rows)",
        r"anything new",
        r"(within|inside|outside|under|meet|meets|meeting|out of|past|over|beyond|miss\w*|breach\w*|"
        r"break\w*) (the |its |our |their |his |her )?(\w+ )?slas?",
        # arriving: "has it made it into the warehouse?", "did it come in overnight?", "are they in?"
        r"(made it|make it|makes it|come|comes|came|coming|got|gotten|get|gets) (in|into|through)(?! touch)",
        r"(is|are) (it|they|these|those) (all )?in( yet| already| now)?(?=\s*[?.!,]|$)",
        # an age asked in hours or days, not a count of rows
        r"how (many|much) (hours|days|minutes|time)|how long (since|ago)",
        r"most recent",
        r"\bmax ?\( ?[\w.]*_at ?\)",  # the newest timestamp: "max(loaded_at) looks like Friday"
        # "is the refund data complete?", "is payment complete through 30 Nov?"
        r"\bdata (\w+ )?(even |fully |already )?complete\b",
        r"\bcomplete (through|thru|up to|until|till|as of)\b",
        r"caught up",
        r"newer than",
        # a false friend (German "aktuell", Portuguese "atual"): "are the orders already actual?"
        r"(already|still|not|yet) actual",
        # arrived by now: "does payment already contain last night's captures?" (not what it contains)
        r"already (contain|contains|include|includes|have|has|hold|holds|show|shows)",
        # the cut-off asked: "until which time does payment contain data?"
        r"(up to|until|till|through) (which|what) (time|date|day|hour|point|moment)",
        # "does payment contain data up to yesterday end of day?" (not what it contains)
        r"(contain|contains|include|includes|hold|holds|has|have) (all )?(the )?"
        r"(data|rows|records|events|everything) (\w+ )?(up to|until|till|through|thru) (?!date)",
        # a day whole in it: "does the payment table have all of Sunday in it?"
        r"(contain|contains|include|includes|has|have) all (of )?(monday|tuesday|wednesday|thursday|friday|"
        r"saturday|sunday|yesterday|last night|the weekend|last week)\b",
    ),
    # a time window alone ("data issues since yesterday") frames the question, it does not ask for freshness
    # "latest", "for today": about recency, unless something else is asked ("the latest run")
    weak=phrases(
        r"since (midnight|yesterday|this morning|last night)",
        r"latest",
        r"(for|from|through|of) (today|yesterday|this morning|last night)",
    ),
    subject="any",
    fetch=fetch,
)
