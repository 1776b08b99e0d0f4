"""The exposures name what their readers read, and the marts the dashboard reads have enforced contracts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from empathy.dashboard import PAGES
from tests.conftest import PROJECT_DIR

MODELS = PROJECT_DIR / "models"
REF = re.compile(r"ref\('([a-z0-9_]+)'\)")
# Python models cannot have enforced contracts (dbt); dim_customers carries the company's screened extra columns,
# which differ by company, so its columns cannot be fixed in advance (DECISIONLOG.md).
NO_CONTRACT = {"dim_customers"}


def _yml() -> list[dict]:
    return [yaml.safe_load(path.read_text()) or {} for path in sorted(MODELS.rglob("*.yml"))]


def _exposures() -> dict[str, set[str]]:
    return {
        exposure["name"]: {REF.fullmatch(ref).group(1) for ref in exposure["depends_on"]}
        for doc in _yml()
        for exposure in doc.get("exposures", [])
    }


def _models() -> dict[str, dict]:
    return {model["name"]: model for doc in _yml() for model in doc.get("models", [])}


def _tables_named_in(path: Path, schemas: str = "marts|intermediate|staging|reference") -> set[str]:
    return set(re.findall(rf"\b(?:{schemas})\.([a-z][a-z0-9_]+)", path.read_text()))


def test_the_dashboard_exposure_lists_the_marts_its_pages_read():
    read = {
        value.partition(".")[2]
        for page in PAGES
        for value in vars(page).values()
        if isinstance(value, str) and value.startswith("marts.")
    } | {"dim_customers"}  # overview's headline count
    assert _exposures()["dashboard"] == read


@pytest.mark.parametrize(
    ("exposure", "module"),
    [
        pytest.param("eval_models", "predict/evaluate.py", id="eval-models"),
        pytest.param("eval_state", "state/evaluate.py", id="eval-state"),
        pytest.param("model_cards", "model_card.py", id="model-card"),
    ],
)
def test_the_evaluation_exposures_list_the_tables_their_code_names(exposure, module):
    named = _tables_named_in(PROJECT_DIR / "python" / "empathy" / module)
    assert named <= _exposures()[exposure], f"{module} reads {sorted(named - _exposures()[exposure])} undeclared"


def test_every_exposure_depends_on_models_or_seeds_that_exist():
    seeds = {path.stem for path in (PROJECT_DIR / "seeds").glob("*.csv")}
    known = (
        set(_models())
        | seeds
        | {path.stem for path in MODELS.rglob("*.sql")}
        | {path.stem for path in MODELS.rglob("*.py")}
    )
    for name, refs in _exposures().items():
        assert refs <= known, f"exposure {name} names {sorted(refs - known)}, which are not models or seeds"


def test_the_sql_marts_the_dashboard_reads_have_enforced_contracts():
    models = _models()
    sql_marts = {path.stem for path in (MODELS / "marts").rglob("*.sql")}
    contracted = sorted((_exposures()["dashboard"] & sql_marts) - NO_CONTRACT)  # Python models cannot have one
    assert len(contracted) >= 6
    for name in contracted:
        model = models[name]
        assert model.get("config", {}).get("contract", {}).get("enforced") is True, f"{name} has no enforced contract"
        untyped = [column["name"] for column in model["columns"] if not column.get("data_type")]
        assert untyped == [], f"{name}: columns without data_type {untyped}"
