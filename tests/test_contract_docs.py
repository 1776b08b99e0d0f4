"""The dbt source files are generated from the raw-data contract and must not drift from it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from empathy import contract
from empathy.contract_docs import METADATA_COLUMNS, check_sources, render_sources, write_sources

PROJECT_DIR = Path(__file__).resolve().parents[1]
STAGING = PROJECT_DIR / "models" / "staging"


def _load(path: Path) -> dict:
    with path.open(encoding="utf-8") as f:
        return yaml.safe_load(f)


def _sources_by_table() -> dict[str, dict]:
    out = {}
    for rel in render_sources():
        doc = _load(PROJECT_DIR / rel)
        for source in doc["sources"]:
            for table in source["tables"]:
                out[table["name"]] = {"source": source, "table": table}
    return out


def test_committed_source_files_are_in_sync():
    assert check_sources(PROJECT_DIR) == [], "run `empathy contract sources` to regenerate the dbt source files"


def test_rendering_is_deterministic():
    assert render_sources() == render_sources()


def test_one_file_per_source():
    expected = {Path("models") / "staging" / s / f"_{s}__sources.yml" for s in {t.source for t in contract.TABLES}}
    assert set(render_sources()) == expected


def test_every_contract_table_and_column_is_documented():
    tables = _sources_by_table()
    assert set(tables) == {t.name for t in contract.TABLES}
    for t in contract.TABLES:
        entry = tables[t.name]
        source, table = entry["source"], entry["table"]
        assert source["name"] == t.source
        assert source["schema"] == "{{ var('raw_schema', 'raw') }}"
        assert source["description"] == contract.SOURCE_DESCRIPTIONS[t.source]
        assert table["description"] == t.description
        assert table["loaded_at_field"] == t.day_column
        freshness = table["config"]["freshness"]
        assert freshness["warn_after"] == {"count": t.freshness_warn_hours, "period": "hour"}
        assert freshness["error_after"] == {"count": t.freshness_error_hours, "period": "hour"}
        columns = {c["name"]: c for c in table["columns"]}
        expected = t.column_names + [name for name, _, _ in METADATA_COLUMNS]
        assert [c["name"] for c in table["columns"]] == expected
        for col in t.columns:
            assert columns[col.name]["description"] == col.description
            assert columns[col.name]["data_type"] == col.duckdb_type
            meta = columns[col.name]["config"]["meta"]
            assert meta.get("allowed_values") == (list(col.allowed) if col.allowed else None)
            assert meta.get("required", False) == col.required
        for name, data_type, _ in METADATA_COLUMNS:
            assert columns[name]["data_type"] == data_type
        # Keys are tested on staging, never on a source that may be absent.
        assert all("data_tests" not in c and "tests" not in c for c in table["columns"])


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    for rel in render_sources():
        dest = tmp_path / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(PROJECT_DIR / rel, dest)
    return tmp_path


def test_check_fails_on_drift(project_copy: Path):
    assert check_sources(project_copy) == []
    crm = project_copy / "models" / "staging" / "crm" / "_crm__sources.yml"
    crm.write_text(crm.read_text(encoding="utf-8").replace("data_type: varchar", "data_type: integer", 1))
    (project_copy / "models" / "staging" / "digital" / "_digital__sources.yml").unlink()
    stale = project_copy / "models" / "staging" / "erp" / "_erp__sources.yml"
    stale.parent.mkdir(parents=True)
    stale.write_text("version: 2\n")
    drifted = check_sources(project_copy)
    assert sorted(drifted) == sorted(
        [
            "models/staging/crm/_crm__sources.yml",
            "models/staging/digital/_digital__sources.yml",
            "models/staging/erp/_erp__sources.yml",
        ]
    )


def test_write_sources_repairs_drift(project_copy: Path):
    crm = project_copy / "models" / "staging" / "crm" / "_crm__sources.yml"
    crm.write_text("version: 2\n")
    assert write_sources(project_copy) == [Path("models/staging/crm/_crm__sources.yml")]
    assert write_sources(project_copy) == []
    assert check_sources(project_copy) == []


def _staging_models() -> dict[str, dict]:
    models = {}
    for path in STAGING.glob("*/_*__models.yml"):
        for model in _load(path)["models"]:
            models[model["name"]] = model
    return models


def test_staging_accounts_for_every_contract_column():
    """Each contract column is carried by a staging column (meta contract_column) or dropped on purpose."""
    carried: dict[str, list[dict]] = {}
    dropped: set[str] = set()
    versioned: set[int] = set()  # columns of models holding every version of a record (key not unique there)
    for model in _staging_models().values():
        meta = model.get("config", {}).get("meta", {})
        dropped.update(meta.get("dropped_contract_columns", []))
        for col in model["columns"]:
            ref = col.get("config", {}).get("meta", {}).get("contract_column")
            if ref:
                carried.setdefault(ref, []).append(col)
                if meta.get("versions_of"):
                    versioned.add(id(col))
    for t in contract.TABLES:
        for c in t.columns:
            ref = f"{t.name}.{c.name}"
            assert (ref in carried) != (ref in dropped), f"{ref}: carry it in staging or list it as dropped"
            for col in carried.get(ref, []):
                tests = col.get("data_tests", [])
                accepted = [
                    x["accepted_values"]["arguments"]["values"]
                    for x in tests
                    if isinstance(x, dict) and "accepted_values" in x
                ]
                if c.allowed:
                    assert accepted == [list(c.allowed)], f"{ref}: accepted_values differ from the contract"
                if c.name == t.key and id(col) in versioned:
                    assert "not_null" in tests, f"{ref}: the key of a versions model needs not_null"
                elif c.name == t.key:
                    assert "unique" in tests and "not_null" in tests, f"{ref}: the key needs unique and not_null"
                elif c.required:
                    assert "not_null" in tests, f"{ref}: a required column needs not_null"


def test_every_contract_table_has_a_staging_model():
    sql = "\n".join(p.read_text(encoding="utf-8") for p in STAGING.glob("*/stg_*.sql"))
    for t in contract.TABLES:
        assert f"source_or_empty('{t.source}', '{t.name}')" in sql, f"no staging model reads {t.source}.{t.name}"
