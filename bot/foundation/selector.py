"""dbt node selectors typed by people, checked against the manifest before dbt sees them.

An allowlist, not an escape: every atom must match a small grammar (`[@][n+]<method:>name[+n]`,
atoms joined by `,` for intersection) AND name something in the manifest. What passes goes to dbt as
ONE argv element (dbt splits on spaces itself); nothing reaches a shell.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bot.foundation.catalog import Catalog
from bot.foundation.errors import UsageError
from bot.foundation.suggest import unknown

MAX_ATOMS = 20
_ATOM = re.compile(
    r"(?P<at>@)?(?P<up>\d*\+)?(?:(?P<method>[a-z_]+):)?(?P<name>[A-Za-z0-9_][A-Za-z0-9_./-]*?)(?P<down>\+\d*)?"
)
_SELECTABLE = ("model", "seed", "snapshot", "test")
_TEST_TYPES = ("generic", "singular", "unit", "data")
_HELP = "Use node names, `+` graph operators, `tag:`, `source:`, `path:`, `test_name:` or `test_type:`."


def atoms(selector: str) -> list[str]:
    """The parts of a selector, each selecting on its own (words are a union, `,` an intersection)."""
    return [atom for word in selector.split() for atom in word.split(",")]


def check_selector(words: Sequence[str], catalog: Catalog) -> str:
    """The selector to pass to dbt, or UsageError naming the first thing that is not in the manifest."""
    parts = atoms(" ".join(words))
    if len(parts) > MAX_ATOMS:
        raise UsageError(f"That selects with {len(parts)} parts; {MAX_ATOMS} at most.")
    for atom in parts:
        match = _ATOM.fullmatch(atom)
        if match is None or (match["at"] and (match["up"] or match["down"])):
            raise UsageError(f"`{atom[:60]}` is not a selector I accept. {_HELP}")
        method, name = match["method"] or "", match["name"]
        choices = _choices(method, catalog)
        if choices is None:
            raise UsageError(f"`{method}:` is not a selector method I accept. {_HELP}")
        if not choices:
            raise UsageError(f"The dbt project has nothing to select with `{method}:`.")
        if _normal(method, name) not in choices:
            message, guess = unknown(method or "node", name, choices)
            raise UsageError(message, suggestion=guess)
    return " ".join(words)


def with_own_tests(selector: str, catalog: Catalog) -> str:
    """The selector plus, for each model it names bare, every test attached to that model by name.

    The bot runs tests with `--indirect-selection cautious` so that `/amd test user` does not run the
    tests of the models that point at `user`; alone, that would also drop `user`'s own relationships
    test to another model that is not selected. Naming a model's attached tests selects them directly,
    which is what a person who types the model's name means."""
    named = set(selector.split())  # bare words only: "+user" or "tag:x" equals no model's name
    models = {
        uid for uid, n in catalog.nodes.items() if n.get("resource_type") == "model" and n["name"] in named
    }
    own = sorted(
        n["name"]
        for n in catalog.nodes.values()
        if n.get("resource_type") == "test" and n.get("attached_node") in models and n["name"] not in named
    )
    return " ".join([selector, *own])


def _choices(method: str, catalog: Catalog) -> set[str] | None:
    nodes = [n for n in catalog.nodes.values() if n.get("resource_type") in _SELECTABLE]
    sources = list(catalog.sources.values())
    match method:
        case "":
            # A bare word is a node name or a folder/package in a node's fqn (dbt matches both).
            return {n["name"] for n in nodes} | {part for n in nodes for part in n.get("fqn", ())[:-1]}
        case "tag":
            return {t for item in (*nodes, *sources) for t in _tags(item)}
        case "source":
            return {s["source_name"] for s in sources} | {f"{s['source_name']}.{s['name']}" for s in sources}
        case "path":
            return set(_paths(item.get("original_file_path", "") for item in (*nodes, *sources)))
        case "test_name":
            return {str(n.get("test_metadata", {}).get("name")) for n in nodes if n.get("test_metadata")}
        case "test_type":
            return set(_TEST_TYPES)
    return None


def _normal(method: str, name: str) -> str:
    return name.rstrip("/") if method == "path" else name


def _tags(item: Mapping[str, Any]) -> Iterable[str]:
    return {*item.get("tags", ()), *item.get("config", {}).get("tags", ())}


def _paths(files: Iterable[str]) -> Iterable[str]:
    """Each file and every folder above it: `path:models/entities` selects what is inside."""
    for file in files:
        parts = file.split("/")
        for end in range(1, len(parts) + 1):
            if ".." not in parts[:end]:
                yield "/".join(parts[:end])
