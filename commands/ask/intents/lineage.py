"""Where an entity comes from and what it feeds: the dependency graph of the dbt manifest, up to every
origin — its sources (the raw events), seeds and snapshots."""

from __future__ import annotations

from bot.core.command import Ctx
from commands.ask.intent import Answer, Intent, Question, phrases
from commands.ask.lineage_graph import origins, upstream
from commands.ask.manifest import SOURCE, manifest_time

SHOWN = 12


def _names(uids: set[str]) -> str:
    names = sorted(f"`{u.split('.', 2)[-1]}`" for u in uids)
    return (
        ", ".join(names[:SHOWN]) + (f" and {len(names) - SHOWN} more" if len(names) > SHOWN else "") or "none"
    )


async def fetch(question: Question, ctx: Ctx) -> Answer:
    assert question.entity is not None  # the engine asks for one first (subject="entity")
    catalog = ctx.catalog
    entity = catalog.entities[question.entity]
    above = upstream(entity.unique_id, catalog.nodes)
    models = {u for u in above if u.startswith("model.")}
    found = {label: uids for label, uids in origins(above).items() if uids}
    # Every kind of origin that it has is named; with none at all, that is said too.
    starts = "; ".join(f"the {label} {_names(uids)}" for label, uids in found.items())
    downstream = {
        uid
        for uid, node in catalog.nodes.items()
        if uid.startswith("model.") and entity.unique_id in node.get("depends_on", {}).get("nodes", [])
    }
    lines = (
        f"`{entity.name}` is built from the models {_names(models)}",
        f"and, further up, from {starts or 'no source, seed or snapshot'}.",
        f"Models built on it: {_names(downstream)}.",
    )
    return Answer(lines, SOURCE, manifest_time(ctx), f"stats {entity.name}", subject=entity.name)


INTENT = Intent(
    name="lineage",
    label="Lineage",
    words=frozenset(
        [
            "upstream",
            "downstream",
            "lineage",
            "depends",
            "dependency",
            "dependencies",
            "source",
            "sources",
            "feeds",
            "feed",
            "parents",
            "parent",
            "children",
            "derived",
            "origin",
            "impact",
            "affect",
            "affected",
            "input",
            "inputs",
            "derive",
            "consumer",
            "consumers",
            "dependent",
            "dependents",
            "rename",
            "seed",
            "seeds",
            "snapshot",
            "snapshots",
        ]
    ),
    phrases=phrases(
        r"(what|who|which \w+) (uses?|reads?|depends?)",
        r"comes? from",
        r"from where",
        r"(ends?|ended) up in",
        r"(go|goes|went|flows?) into",
        r"built (from|on)",
        r"\b(made|computed|calculated|assembled) (from|out of)\b",  # "is purchase made from payment?"
        r"depends? on",
        r"where does",
        r"reads? from",
        r"staging",
        r"used by",
        r"family tree",  # "family tree of the customers table"
        r"\b(origins?|provenance) of\b",  # "please describe the origin of the customer data"
        r"\b(models?|tables?|sources?|stg) behind\b",  # "stg models behind delivery_address?"
        # the way in: "how does an address get into the AMD?", "how do refunds end up in payment?"
        r"how (do|does|did) (\w+ ){1,4}(get|end up|land|make it|flow) (in|into|to)\b",
        r"breaks? if",
        # what makes its rows: "which events create the rows in users?"
        r"(which|what) (\w+ )?(creates?|produces?|generates?|populates?|fills?)",
        # the steps on the way: "what models sit between `raw.events` and `users`?", "what lies between"
        r"\b(models?|steps?|tables?|sits?|lies?) (in )?between (\S+ ){1,3}and\b",
    ),
    subject="entity",
    fetch=fetch,
)
