"""The dbt manifest's dependency graph, read upward: what a node is built from, and every kind of
origin it starts at — dbt sources (the raw events), seeds (CSV files in the project) and snapshots."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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
