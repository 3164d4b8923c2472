"""Any open incidents? The open incidents the failure watcher recorded (what `/amd alerts` lists), of
one entity or owner when the question names one, as of the watcher's last sweep."""

from __future__ import annotations

from bot.alerts.views import open_lines
from bot.alerts.watch import last_sweep
from bot.core.command import Ctx
from bot.foundation.catalog import Catalog
from bot.state.incidents import Incidents
from commands.alerts import unresolved
from commands.ask.access import alerts_of, left_out, may
from commands.ask.intent import Answer, Intent, Question, phrases

SHOWN = 5
SOURCE = "the failure watcher's incidents"


async def fetch(question: Question, ctx: Ctx) -> Answer:
    store = Incidents(ctx.backends.state.engine)
    entity, owner = question.entity, question.subjects.owner
    which = f"`{entity}`" if entity else (owner or "all entities")
    more = f"alerts {entity or owner}" if entity or owner else "alerts"
    swept = await last_sweep(store)
    if swept is None:
        lines = (
            "The failure watcher has not swept yet, so I know of no incidents either way: "
            f"`{ctx.backends.settings.command} alerts check` sweeps now.",
        )
        return Answer(lines, SOURCE, ctx.now(), more, subject=entity)
    every = await unresolved(store, entity=entity, owner=owner)
    found = [i for i in every if may(ctx, alerts_of(i.entity, i.owner))]
    listed = open_lines(found, now=ctx.now(), which=which, shown=SHOWN, unread=swept.unread)
    listed += left_out(len(every) - len(found))
    return Answer(tuple(listed), f"{SOURCE} (its last sweep)", swept.at, more, subject=entity)


def reads(question: Question, _catalog: Catalog) -> tuple[str, ...]:
    entity, owner = question.entity, question.subjects.owner
    return (alerts_of(entity, owner),) if entity or owner else ()


INTENT = Intent(
    name="incidents",
    label="Open incidents",
    words=frozenset(
        [
            "incident",
            "incidents",
            "alert",
            "alerts",
            "alerting",
            "outage",
            "outages",
            "paged",
            "pager",
            "emergency",
            "degraded",
            "postmortem",
            # an incident's life: opened as a ticket, acknowledged, resolved
            "ticket",
            "acknowledged",
            "resolved",
        ]
    ),
    phrases=phrases(
        r"(open|active|current|ongoing|known) (issues?|problems?)",
        r"failing for",
        # raised and not yet closed: "nothing is open against it?", "any data issue announced for X?"
        r"(anything|nothing|something|what) (is |are )?(still )?(open|raised|filed|logged) (against|on|for)",
        r"(issues?|problems?) (\w+ )?(announced|reported|raised|logged|declared)",
        r"tracked (somewhere|anywhere)",
        # someone already on it: "is somebody working on the problem with X?"
        r"(anyone|anybody|someone|somebody) (already )?(working|looking) (on|into) (the |this |that )?"
        r"(problem|issue|failure|outage|incident|alert)",
        r"(anyone|anybody|someone|somebody) (already |else )?(on|working on|looking at|looking into) "
        r"(it|this|that)",
    ),
    subject="any",
    fetch=fetch,
    reads=reads,
)
