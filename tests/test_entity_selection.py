"""AMD_ENTITIES is a dbt selector, evaluated on the manifest (the demo's here; the harbour project's in
tests/test_own_project.py, where no model has `meta`)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.foundation.catalog import Catalog
from bot.foundation.entity_selection import EntitySelectorError, entity_ids
from bot.foundation.settings import Settings

ENTITIES = ["delivery_address", "payment", "purchase", "user"]


@pytest.fixture(scope="module")
def manifest(demo_settings: Settings) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(demo_settings.manifest_path.read_text())
    return loaded


def names(manifest: dict[str, Any], selector: str | None) -> list[str]:
    return sorted(Catalog.from_manifest(manifest, {}, selector).entities)


def test_the_default_is_the_models_marked_as_entities(manifest: dict[str, Any]) -> None:
    assert names(manifest, None) == ENTITIES
    assert names(manifest, "config.meta.entity:true") == ENTITIES


def test_paths_names_unions_and_intersections(manifest: dict[str, Any]) -> None:
    staging = names(manifest, "path:models/staging")

    assert staging and all(name.startswith("stg_") for name in staging)
    assert names(manifest, "user payment") == ["payment", "user"]
    assert names(manifest, "stg_payment_*") == ["stg_payment_captured", "stg_payment_refunded"]
    assert names(manifest, "path:models/entities,config.meta.dag:amd_user") == ["user"]
    assert names(manifest, "config.materialized:view") == staging
    assert names(manifest, "tag:nothing-has-this") == []


def test_without_any_meta_every_materialised_model_of_the_project_is_an_entity(
    manifest: dict[str, Any],
) -> None:
    bare = json.loads(json.dumps(manifest))
    for node in bare["nodes"].values():
        node["meta"], node["config"]["meta"] = {}, {}

    every = names(bare, None)

    assert set(ENTITIES) < set(every)
    assert every == sorted(n["name"] for n in bare["nodes"].values() if n["resource_type"] == "model")


@pytest.mark.parametrize(
    ("selector", "problem"), [("+user", "graph operator"), ("state:modified", "`state:`")]
)
def test_what_cannot_select_entities_is_refused_clearly(
    manifest: dict[str, Any], selector: str, problem: str
) -> None:
    with pytest.raises(EntitySelectorError, match=problem):
        entity_ids(manifest, selector)
