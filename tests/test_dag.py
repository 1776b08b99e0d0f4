"""The shape of the model graph, read from the manifest of a `dbt parse` (no world is built).

Marts are leaves (DECISIONLOG.md "Marts are leaves"): flow is staging -> intermediate -> marts, and no model reads
a mart. Logic that more than one model needs lives in an `int_` model; the mart shows it.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import make_settings

LAYERS = ("staging", "intermediate", "marts", "semantic")


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> dict:
    from empathy.dbt import run_dbt

    settings = make_settings(tmp_path_factory.mktemp("dag") / "home")
    result = run_dbt(settings, ["parse"])
    assert result.ok, "\n".join(result.failures)
    return json.loads((settings.dbt_target / "manifest.json").read_text())


def _models(manifest: dict) -> dict[str, dict]:
    return {uid: node for uid, node in manifest["nodes"].items() if node["resource_type"] == "model"}


def _layer(node: dict) -> str:
    """The folder under models/ the model's file is in."""
    return node["original_file_path"].split("/")[1]


def _edges(manifest: dict) -> list[tuple[dict, dict]]:
    """(parent, child) for every model that a model reads."""
    models = _models(manifest)
    return [
        (models[parent], child)
        for child in models.values()
        for parent in child["depends_on"]["nodes"]
        if parent in models
    ]


def test_every_model_is_in_a_layer_and_the_marts_are_the_marts_schema(manifest):
    models = _models(manifest).values()
    assert models
    assert {_layer(node) for node in models} <= set(LAYERS)
    # a mart is a model under models/marts/, and only those build into the marts schema (what is published)
    misplaced = sorted(node["name"] for node in models if (_layer(node) == "marts") != (node["schema"] == "marts"))
    assert not misplaced, f"models whose folder and schema disagree on being a mart: {misplaced}"


def test_no_model_reads_a_mart(manifest):
    edges = sorted(
        f"{parent['name']} -> {child['name']}" for parent, child in _edges(manifest) if _layer(parent) == "marts"
    )
    assert not edges, (
        "marts are leaves: move the logic the reader needs into an int_ model and let the mart select from it "
        f"(DECISIONLOG.md). Edges from a mart: {edges}"
    )


def test_the_mart_layer_has_no_parent_in_the_mart_layer(manifest):
    marts = [node for node in _models(manifest).values() if _layer(node) == "marts"]
    parents = {
        node["name"]: sorted(
            manifest["nodes"][p]["name"]
            for p in node["depends_on"]["nodes"]
            if p in manifest["nodes"] and manifest["nodes"][p]["original_file_path"].startswith("models/marts/")
        )
        for node in marts
    }
    assert marts
    assert not {name: p for name, p in parents.items() if p}, parents


def test_intermediate_models_read_only_staging_and_intermediate_models(manifest):
    wrong = sorted(
        f"{parent['name']} -> {child['name']}"
        for parent, child in _edges(manifest)
        if _layer(child) == "intermediate" and not parent["name"].startswith(("stg_", "int_"))
    )
    assert not wrong, wrong
