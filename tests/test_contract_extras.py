"""Extra columns in the generated dbt source files: listed after the contract's columns, marked, accepted by check."""

from __future__ import annotations

import yaml

from empathy.contract_docs import check_sources, committed_extras, group_extras, render_sources, write_sources

EXTRAS = group_extras(
    [
        ("reviews", "order_id", "VARCHAR"),
        ("customers", "yes", "BOOLEAN"),  # a YAML keyword as a name stays a string
        ("customers", "amount", "DECIMAL(18,3)"),
        ("not_a_table", "x", "VARCHAR"),
    ]
)


def _table(text: str, name: str) -> dict:
    return next(t for t in yaml.safe_load(text)["sources"][0]["tables"] if t["name"] == name)


def test_extras_follow_the_contract_columns_marked_as_extras():
    files = {p.as_posix(): text for p, text in render_sources(EXTRAS).items()}
    customers = _table(files["models/staging/crm/_crm__sources.yml"], "customers")
    names = [c["name"] for c in customers["columns"]]
    assert names.index("yes") > names.index("acquisition_channel") and names.index("amount") < names.index("_file")
    extra = {c["name"]: c for c in customers["columns"] if c.get("config", {}).get("meta", {}).get("extra")}
    assert set(extra) == {"yes", "amount"}
    assert extra["amount"]["data_type"] == "decimal(18,3)"
    assert "not_a_table" not in "".join(files.values())


def test_check_accepts_listed_extras_and_still_catches_drift(tmp_path):
    write_sources(tmp_path, EXTRAS)
    assert committed_extras(tmp_path) == {k: v for k, v in EXTRAS.items()}
    assert check_sources(tmp_path) == []
    path = tmp_path / "models/staging/feedback/_feedback__sources.yml"
    path.write_text(path.read_text().replace("data_type: bigint", "data_type: varchar", 1))
    assert check_sources(tmp_path) == ["models/staging/feedback/_feedback__sources.yml"]


def test_without_extras_the_files_are_the_contract_alone():
    assert render_sources({}) == render_sources()
    assert "extra: true" not in "".join(render_sources().values())
