"""Which models of the manifest are AMD entities: a dbt selector (AMD_ENTITIES), evaluated here.

Without one: the models with `meta.entity` when any model has it (the demo's convention), else every
model of the project itself that is materialised (ephemeral ones are not in the warehouse), so an
unmodified project lists its models. Evaluated in-process on the manifest: listing entities must not
cost a dbt invocation. The grammar is dbt's, minus graph operators and exclusions (an entity list is not
a build plan): words separated by spaces are a union, atoms joined by `,` an intersection, and an atom
is a name or `fqn:`, `tag:`, `path:`, `package:`, `group:`, `access:` or `config.<key>[.<key>…]:`.
"""

from __future__ import annotations

from collections.abc import Mapping
from fnmatch import fnmatchcase
from typing import Any

Node = Mapping[str, Any]
_METHODS = ("fqn", "tag", "path", "package", "group", "access")


class EntitySelectorError(ValueError):
    """AMD_ENTITIES is not a selector this evaluator understands; the message says what it accepts."""


def entity_ids(manifest: Mapping[str, Any], selector: str | None) -> list[str]:
    """unique_ids of the entity models, latest versions only (a versioned model is one entity)."""
    root = manifest.get("metadata", {}).get("project_name")
    models = {
        uid: node
        for uid, node in manifest.get("nodes", {}).items()
        if node.get("resource_type") == "model" and _latest(node)
    }
    if selector and selector.strip():
        return sorted(uid for uid, node in models.items() if _selected(node, selector, root))
    marked = [uid for uid, node in models.items() if node_meta(node).get("entity")]
    if marked:
        return sorted(marked)
    return sorted(
        uid
        for uid, node in models.items()
        if node.get("package_name") == root and node.get("config", {}).get("materialized") != "ephemeral"
    )


def _latest(node: Node) -> bool:
    version, latest = node.get("version"), node.get("latest_version")
    return version is None or latest is None or str(version) == str(latest)


def node_meta(node: Node) -> Mapping[str, Any]:
    # dbt puts meta in both places depending on where it was declared; config.meta wins.
    return {**node.get("meta", {}), **node.get("config", {}).get("meta", {})}


def _selected(node: Node, selector: str, root: str | None) -> bool:
    return any(all(_atom(node, atom, root) for atom in word.split(",")) for word in selector.split())


def _atom(node: Node, atom: str, root: str | None) -> bool:
    if atom.startswith(("+", "@", "-")) or atom.endswith("+"):
        raise EntitySelectorError(
            f"AMD_ENTITIES: `{atom}` uses a graph operator or an exclusion; entities are selected "
            "with names, `tag:`, `path:`, `fqn:`, `package:`, `group:`, `access:` or `config.…:`"
        )
    method, _, value = atom.rpartition(":")
    if method.startswith("config."):
        return _matches(_config(node, method.removeprefix("config.").split(".")), value)
    match method:
        case "" | "fqn":
            fqn = node.get("fqn", ())
            return fnmatchcase(node["name"], value) or value in fqn[:-1] or ".".join(fqn).startswith(value)
        case "tag":
            tags = {*node.get("tags", ()), *(_config(node, ["tags"]) or ())}
            return any(fnmatchcase(tag, value) for tag in tags)
        case "path":
            path, folder = node.get("original_file_path", ""), value.rstrip("/")
            return fnmatchcase(path, folder) or path.startswith(folder + "/")
        case "package":
            return node.get("package_name") == (root if value == "this" else value)
        case "group" | "access":
            return fnmatchcase(str(node.get(method) or _config(node, [method]) or ""), value)
    raise EntitySelectorError(
        f"AMD_ENTITIES: `{method}:` is not a method I can select entities with; use one of "
        f"{', '.join(f'`{m}:`' for m in _METHODS)} or `config.<key>:`"
    )


def _config(node: Node, keys: list[str]) -> Any:
    value: Any = node.get("config", {})
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _matches(found: Any, wanted: str) -> bool:
    if isinstance(found, list):
        return any(_matches(item, wanted) for item in found)
    if isinstance(found, bool):  # `config.meta.entity:true` as dbt compares it
        return str(found).lower() == wanted.lower()
    return found is not None and fnmatchcase(str(found), wanted)
