"""Who owns an entity, where to ask about it, its SLA and DAG: from the dbt manifest's `meta`.
The owner is named, not @-mentioned: asking who owns something should not page them."""

from __future__ import annotations

from bot.core.command import Ctx
from bot.foundation.catalog import Catalog
from bot.render import format as fmt
from commands.ask.intent import Answer, Intent, Question, phrases, stats_read
from commands.ask.manifest import SOURCE, manifest_time
from commands.migration import ledger_of


async def fetch(question: Question, ctx: Ctx) -> Answer:
    if question.entity is None and question.subjects.migration:
        return _of_migration(question.subjects.migration, ctx)
    assert question.entity is not None  # the engine asks for one first (subject="entity")
    entity = ctx.catalog.entities[question.entity]
    owner = f"*{entity.owner}*" if entity.owner else "nobody (no `meta.owner` or dbt group owner)"
    lines = (
        f"`{entity.name}` is owned by {owner}.",
        f"Support channel: {entity.support_channel or '— (no `meta.support_channel`)'} · freshness SLA: "
        f"{fmt.hours(entity.freshness_sla_hours)} · built by: {f'`{entity.dag}`' if entity.dag else '—'}",
    )
    return Answer(lines, SOURCE, manifest_time(ctx), f"stats {entity.name}", subject=entity.name)


def _of_migration(name: str, ctx: Ctx) -> Answer:
    """A migration's owner and where its stall alerts go, as AMD_MIGRATIONS declares them."""
    spec = ledger_of(ctx.backends).spec(name)
    owner = f"*{spec.owner}*" if spec.owner else "nobody (no `owner` in AMD_MIGRATIONS)"
    alerts = f"<#{spec.channel}>" if spec.channel else "— (no `channel`: no stall alerts)"
    lines = (
        f"The migration *{spec.title or name}* is owned by {owner}.",
        f"Stall alerts go to: {alerts} · copies into `{spec.target}`",
    )
    return Answer(
        lines, "the migrations' settings (AMD_MIGRATIONS)", ctx.now(), f"migration {name}", subject=name
    )


def reads(question: Question, catalog: Catalog) -> tuple[str, ...]:
    """A migration's owner is the migration's to read (`migration:<name>`), an entity's the entity's."""
    if question.entity is None and question.subjects.migration:
        return (f"migration:{question.subjects.migration}",)
    return stats_read(question, catalog)


INTENT = Intent(
    name="owner",
    label="Owner",
    words=frozenset(
        [
            "owner",
            "owners",
            "owns",
            "owned",
            "responsible",
            "maintains",
            "maintainer",
            "maintainers",
            "contact",
            "support",
            "sla",
            "slas",
            "escalate",
            "ping",
            "oncall",
            "poc",
            "steward",
            "accountable",
        ]
    ),
    phrases=phrases(
        # "who runs X" asks for a person, not for X's runs
        r"who (is|are|do|should|can|to|built|made|looks|runs|maintains|manages|handles|knows|fixes)",
        r"support channel",
        r"in charge",
        r"point of contact",
        r"help with",
        r"get help",
        r"on[- ]call",
        r"looks? after",
        # answerable for it: "who's on the hook for X?", "which team is behind X?"
        r"on the hook",
        # "why is it late and who's looking at it?"
        r"who(?:'s| is| are)? (?:looking|working) (?:at|on|into)",
        r"who(?:'s| is| are) (?:handling|fixing|dealing with|sorting)\b",  # "and who's handling them?"
        r"who(?:'s| is| are) on (?:it|this|that|them)\b",  # "why is it stale and who's on it?"
        r"\bchannel (?:where|to) (?:i|we|one) (?:can|could|should) (?:ask|reach|contact|talk)",
        r"whose (?:model|table|dataset|data|pipeline|dag|job|area|domain)\b",  # "whose model is berth_usage?"
        # "who's the human behind X?" (not "what are the sources behind X?")
        r"(who|(?:which|what) (?!(?:is|are|was|were)\b)\w+)(?: is|'s| are)?(?: the \w+)? behind",
        # where they are: "which channel?", "what's their slack channel?"
        r"(which|what|what's|whats)(?: is)?(?: their| its| the)?(?: slack| support| team)? channel",
        r"ask (about|in)",
        # whom to turn to: "who can I ask about X?", "who I could ping"
        r"who (\w+ )?((can|could|should|do|may|must) (i|we)|(i|we) (can|could|should|may|must|need to)) "
        r"(ask|contact|talk to|reach|ping|bother)",
        # how to get to them: "how do I reach payments-team?", "to whom should I turn with X?"
        r"how (do|can|should|would) (i|we|one) (reach|contact|get hold of|get in touch with)",
        r"to whom",
        # whom it falls to: "who gets paged if amd_user breaks?", "which datasets sit with payments-team?"
        r"who (gets|get|will get|would get|should get) (paged|pinged|called|notified|woken)",
        r"(sit|sits) with",
        # who vouches for it: "who signs off on those numbers?", "who approves changes to purchase?"
        r"who (signs|sign|signed|will sign) off\b|who (approves|approved|vouches)\b",
    ),
    subject="entity",
    fetch=fetch,
    reads=reads,
    of_migrations=True,
)
