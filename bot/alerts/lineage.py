"""Root causes through the dbt lineage: one failure and what it broke are one item, not five.

A failed DAG run (or a paused, missing or stuck one) is a root; the failing tests among its failed
tasks, or in the dbt results its tasks kept, are its cause; test failures on its models, and entities
at or downstream of its models that went stale, are its blast radius; another DAG's state never is (a
failed run stays a root beside its DAG's missing one). What no run explains is grouped the same way under
the most upstream failing test or stale entity.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.foundation.catalog import Catalog
from bot.state.incidents import Incident

_ROOT_ORDER = {"run": 0, "stuck": 0, "missing": 0, "paused": 0, "test": 1, "stale": 2, "migration": 3}
_DAG_KINDS = ("run", "stuck", "missing", "paused")  # about a DAG: what its models reach is its blast radius


@dataclass(frozen=True)
class Group:
    root: Incident
    causes: tuple[str, ...]  # names of the failing tests behind a failed run
    affected: tuple[Incident, ...]  # the incidents it explains (its blast radius)

    @property
    def incidents(self) -> tuple[Incident, ...]:
        return (self.root, *self.affected)

    @property
    def owners(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(i.owner for i in self.incidents if i.owner))


def group(incidents: Sequence[Incident], catalog: Catalog) -> list[Group]:
    """Incidents grouped by root cause: runs first, then tests, stale entities, migrations. Linear in
    the incidents (a digest may hold 10,000): each is indexed once by the manifest nodes it is about."""
    lineage = _Lineage(catalog.nodes)
    dags = {dag: {e.unique_id for e in entities} for dag, entities in catalog.dags().items()}
    tests = {n["name"] for n in catalog.nodes.values() if n.get("resource_type") == "test"}
    nodes = {i.key: _nodes(i, catalog, dags) for i in incidents}
    reach = {i.key: lineage.downstream(nodes[i.key]) for i in incidents}
    # Within a kind, the most upstream first (it reaches the most), then the oldest.
    ordered = sorted(
        incidents, key=lambda i: (_ROOT_ORDER[i.kind], -len(reach[i.key]), i.opened_at or i.first_seen, i.key)
    )
    rank = {i.key: n for n, i in enumerate(ordered)}
    about: dict[str, list[Incident]] = {}
    for incident in ordered:
        for node in nodes[incident.key]:
            about.setdefault(node, []).append(incident)
    taken: set[str] = set()
    groups: list[Group] = []
    for root in ordered:
        if root.key in taken:
            continue
        taken.add(root.key)
        # A DAG's own state (failed, paused, missing, stuck) is never another's blast radius: each is
        # acted on by itself, even when its models sit downstream of another failure.
        hits = {
            i.key: i
            for node in reach[root.key]
            for i in about.get(node, ())
            if i.key not in taken and i.kind not in _DAG_KINDS
        }
        affected = tuple(sorted(hits.values(), key=lambda i: rank[i.key]))
        taken.update(hits)
        groups.append(Group(root, _causes(root, affected, tests) if root.kind == "run" else (), affected))
    return groups


def _causes(run: Incident, affected: Iterable[Incident], tests: set[str]) -> tuple[str, ...]:
    """The failing tests behind a failed run: its failed tasks that are tests (a task per test), and
    the failed tests its tasks' own dbt results name (AMD_DBT_RESULTS_DIR; a task per model)."""
    run_id = run.detail.get("run_id")
    kept = (
        i.subject
        for i in affected
        if i.kind == "test" and i.dag == run.dag and run_id and i.detail.get("run_id") == run_id
    )
    return tuple(dict.fromkeys([*(t for t in run.detail.get("failed_tasks", ()) if t in tests), *kept]))


def _nodes(incident: Incident, catalog: Catalog, dags: Mapping[str, set[str]]) -> set[str]:
    """The manifest nodes an incident is about."""
    detail = incident.detail
    if incident.kind in _DAG_KINDS:
        return dags.get(incident.dag or "", set())
    if incident.kind == "test":
        return {str(detail["model"])} if detail.get("model") else set()
    if incident.kind == "stale" and (entity := catalog.entities.get(incident.entity or "")):
        return {entity.unique_id}
    return set()


def downstream_models(catalog: Catalog, start: Iterable[str]) -> list[str]:
    """Names of the models built from these nodes, them included (what a re-run of them rebuilds)."""
    reach = _Lineage(catalog.nodes).downstream(start)
    return sorted(catalog.nodes[u]["name"] for u in reach if catalog.nodes[u].get("resource_type") == "model")


class _Lineage:
    def __init__(self, nodes: Mapping[str, Mapping[str, Any]]) -> None:
        self.children: dict[str, set[str]] = {}
        for uid, node in nodes.items():
            for parent in node.get("depends_on", {}).get("nodes", ()):
                self.children.setdefault(parent, set()).add(uid)

    def downstream(self, start: Iterable[str]) -> set[str]:
        """The nodes themselves and everything built from them."""
        seen = set(start)
        todo = list(seen)
        while todo:
            for child in self.children.get(todo.pop(), ()):
                if child not in seen:
                    seen.add(child)
                    todo.append(child)
        return seen
