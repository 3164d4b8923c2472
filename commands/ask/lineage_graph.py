"""The dbt manifest's dependency graph, read upward: what a node is built from, and every kind of
origin it starts at — dbt sources (the raw events), seeds (CSV files in the project) and snapshots;
and, read downward, what feeds one entity only (a way to name it)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.foundation.catalog import Catalog

_LAYERS = ("stg_", "int_", "base_", "raw_")  # dbt's usual prefixes of the models under the entities'
ORIGINS = (("source.", "sources (events)"), ("seed.", "seeds"), ("snapshot.", "snapshots"))


def upstream(uid: str, nodes: Mapping[str, Mapping[str, Any]]) -> set[str]:
    seen: set[str] = set()
    todo = list(nodes.get(uid, {}).get("depends_on", {}).get("nodes", []))
    while todo:
        parent = todo.pop()
        if parent not in seen:
            seen.add(parent)
            todo.extend(nodes.get(parent, {}).get("depends_on", {}).get("nodes", []))
    return seen


def origins(above: set[str]) -> dict[str, set[str]]:
    """Each kind of origin (of `ORIGINS`) among `above`, even the kinds that have none."""
    return {label: {u for u in above if u.startswith(prefix)} for prefix, label in ORIGINS}


def feeders(catalog: Catalog) -> dict[str, str]:
    """What feeds one entity only is a way to name it: its staging model ("stg_payment_refunded"),
    named with or without its layer's prefix, as people name the events it reads ("payment_refunded")."""
    fed: dict[str, set[str]] = {}
    for entity in catalog.entities.values():
        for uid in upstream(entity.unique_id, catalog.nodes):
            fed.setdefault(uid, set()).add(entity.name)
    ways: dict[str, str] = {}
    for uid, entities in fed.items():
        name = str(catalog.nodes.get(uid, {}).get("name", "")).lower()
        if len(entities) == 1 and name and uid.startswith(("model.", "seed.", "snapshot.")):
            for way in {name, *(name.removeprefix(layer) for layer in _LAYERS)}:
                ways.setdefault(way, *entities)
    return ways
