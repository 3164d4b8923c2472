"""The dbt manifest as the catalog: entities, owners, SLAs, DAGs, tests. It is the allowlist for every
name a user types; nothing a user types reaches SQL or a shell unless it resolved here first."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.foundation.entity_selection import entity_ids, node_meta
from bot.foundation.errors import UsageError
from bot.foundation.ports import Relation, StatsQuery
from bot.foundation.suggest import unknown


class CatalogMissing(Exception):
    """No manifest.json yet: dbt has not parsed the project (the demo builds it on first start)."""


@dataclass(frozen=True)
class Entity:
    name: str
    unique_id: str
    relation: Relation
    owner: str | None
    support_channel: str | None
    freshness_sla_hours: float | None
    dag: str | None
    load_column: str | None
    aliases: tuple[str, ...]
    description: str
    columns: tuple[str, ...]
    tests: tuple[str, ...]  # unique_ids of the dbt tests attached to the model

    @property
    def stats_query(self) -> StatsQuery:
        return StatsQuery(self.name, self.relation, self.load_column)


@dataclass(frozen=True)
class Catalog:
    entities: Mapping[str, Entity]
    nodes: Mapping[str, Mapping[str, Any]]  # every manifest node (models, tests, seeds, ...) by unique_id
    sources: Mapping[str, Mapping[str, Any]]
    owners: Mapping[str, str]  # owner handle -> Slack user or group id
    group_owners: Mapping[str, str] = field(default_factory=dict)  # dbt group -> its owner's name or email

    @classmethod
    def load(cls, manifest_path: Path, owners: Mapping[str, str], select: str | None = None) -> Catalog:
        try:
            manifest = json.loads(manifest_path.read_text())
        except FileNotFoundError as exc:
            raise CatalogMissing(f"no dbt manifest at {manifest_path}; run `dbt parse` first") from exc
        return cls.from_manifest(manifest, owners, select)

    @classmethod
    def from_manifest(
        cls, manifest: Mapping[str, Any], owners: Mapping[str, str], select: str | None = None
    ) -> Catalog:
        """`select`: the dbt selector of the entity models (AMD_ENTITIES), see foundation/entity_selection."""
        nodes: dict[str, Mapping[str, Any]] = dict(manifest.get("nodes", {}))
        tests_by_model: dict[str, list[str]] = {}
        for uid, node in nodes.items():
            if node.get("resource_type") == "test" and node.get("attached_node"):
                tests_by_model.setdefault(node["attached_node"], []).append(uid)
        group_owners = {
            str(g["name"]): str(owner)
            for g in manifest.get("groups", {}).values()
            if (owner := g.get("owner", {}).get("name") or g.get("owner", {}).get("email"))
        }
        entities = {}
        for uid in entity_ids(manifest, select):
            owner = _owner(nodes[uid], group_owners)
            entity = _entity(uid, nodes[uid], owner, tuple(sorted(tests_by_model.get(uid, []))))
            entities[entity.name] = entity
        return cls(entities, nodes, dict(manifest.get("sources", {})), dict(owners), group_owners)

    def entity(self, word: str) -> Entity:
        """Resolve a typed name or alias; unknown names raise UsageError with a suggestion."""
        key = word.strip().lower()
        for entity in self.entities.values():
            if key == entity.name or key in entity.aliases:
                return entity
        if why := self._why_not_an_entity(key):
            raise UsageError(f"No entity `{key}`: {why}")
        message, guess = unknown("entity", word, self.entity_names())
        raise UsageError(message, suggestion=guess)

    def _why_not_an_entity(self, name: str) -> str:
        """Why a model the project does have is no entity: said, so nobody hunts for a typo."""
        model = next(
            (n for n in self.nodes.values() if n.get("resource_type") == "model" and n.get("name") == name),
            None,
        )
        if model is None:
            return ""
        if model.get("config", {}).get("materialized") == "ephemeral":
            return "it is an ephemeral dbt model, with no table in the warehouse."
        return "it is a dbt model, but not one of the entities (`AMD_ENTITIES` selects them)."

    def entity_names(self) -> list[str]:
        return sorted(self.entities)

    def dags(self) -> dict[str, list[Entity]]:
        by_dag: dict[str, list[Entity]] = {}
        for entity in self.entities.values():
            if entity.dag:
                by_dag.setdefault(entity.dag, []).append(entity)
        return by_dag

    def owner_of(self, unique_id: str) -> str | None:
        """A node's owner: `meta.owner` (the bot's convention), else the owner of its dbt group."""
        return _owner(self.nodes.get(unique_id, {}), self.group_owners)

    def owner_mention(self, owner: str | None) -> str:
        """`<@U…>` / `<!subteam^S…>` when the owner maps to a Slack id, else the handle as text."""
        if not owner:
            return "nobody"
        slack_id = self.owners.get(owner)
        if slack_id is None:
            return owner
        return f"<!subteam^{slack_id}>" if slack_id.startswith("S") else f"<@{slack_id}>"

    def model_names(self) -> set[str]:
        return {n["name"] for n in self.nodes.values() if n.get("resource_type") == "model"}


def _owner(node: Mapping[str, Any], group_owners: Mapping[str, str]) -> str | None:
    owner = node_meta(node).get("owner")
    return str(owner) if owner else group_owners.get(node.get("group") or "")


def _entity(uid: str, node: Mapping[str, Any], owner: str | None, tests: tuple[str, ...]) -> Entity:
    meta = node_meta(node)
    sla = meta.get("freshness_sla_hours")
    return Entity(
        name=node["name"],
        unique_id=uid,
        relation=Relation(node.get("database"), node["schema"], node.get("alias") or node["name"]),
        owner=owner,
        support_channel=meta.get("support_channel"),
        freshness_sla_hours=float(sla) if sla is not None else None,
        dag=meta.get("dag"),
        load_column=meta.get("loaded_at_field"),
        aliases=tuple(str(a).lower() for a in meta.get("aliases", ())),
        description=node.get("description", ""),
        columns=tuple(node.get("columns", {})),
        tests=tests,
    )
