"""Where an entity comes from and what it feeds: the dependency graph of the dbt manifest, down to
its sources (the raw events)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.core.command import Ctx
from commands.ask.intent import Answer, Intent, Question, phrases
from commands.ask.manifest import SOURCE, manifest_time

SHOWN = 12


def _upstream(uid: str, nodes: Mapping[str, Mapping[str, Any]]) -> set[str]:
    seen: set[str] = set()
    todo = list(nodes.get(uid, {}).get("depends_on", {}).get("nodes", []))
    while todo:
        parent = todo.pop()
        if parent not in seen:
            seen.add(parent)
            todo.extend(nodes.get(parent, {}).get("depends_on", {}).get("nodes", []))
    return seen


def _names(uids: set[str]) -> str:
    names = sorted(f"`{u.split('.', 2)[-1]}`" for u in uids)
    return (
        ", ".join(names[:SHOWN]) + (f" and {len(names) - SHOWN} more" if len(names) > SHOWN else "") or "none"
    )


async def fetch(question: Question, ctx: Ctx) -> Answer:
    assert question.entity is not None  # the engine asks for one first (subject="entity")
    catalog = ctx.catalog
    entity = catalog.entities[question.entity]
    upstream = _upstream(entity.unique_id, catalog.nodes)
    sources = {u for u in upstream if u.startswith("source.")}
    models = {u for u in upstream if u.startswith("model.")}
    downstream = {
        uid
        for uid, node in catalog.nodes.items()
        if uid.startswith("model.") and entity.unique_id in node.get("depends_on", {}).get("nodes", [])
    }
    lines = (
        f"`{entity.name}` is built from the models {_names(models)}",
        f"and, further up, from the sources (events) {_names(sources)}.",
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
            "uses",
            "used",
            "rename",
            "seed",
            "seeds",
            "snapshot",
            "snapshots",
        ]
    ),
    phrases=phrases(r"comes? from", r"built (from|on)", r"depends? on", r"where does"),
    subject="entity",
    fetch=fetch,
)
