"""The emotional-state models end to end: the whole pipeline on the small demo world (needs the text model)."""

from __future__ import annotations

import math
from datetime import date, timedelta

import duckdb
import pytest
import yaml

from empathy.dbt import run_dbt
from tests.conftest import PROJECT_DIR, WORLD_END
from tests.test_text_marts import text_built  # noqa: F401  (the module fixture: gate, dbt build, publish)

STATE_MARTS = (
    "fct_customer_emotional_states",
    "fct_state_explanations",
    "fct_nps_predicted",
    "fct_emotional_journey",
    "fct_dissatisfaction_alerts",
    "dim_event_library",
)
STATE_INTERMEDIATE = (
    "int_customer_daily_activity",
    "int_customer_days",
    "int_customer_day_labels",
    "int_survey_invitations",
    "int_customer_events",
    "int_customer_states__scored",
)


def _query(path, sql, params=None):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_state_marts_build_and_publish(text_built):  # noqa: F811
    settings, summary = text_built
    assert summary.dbt.count("test", "fail") == 0 and summary.dbt.count("model", "error") == 0
    published = {
        t for (t,) in _query(settings.published, "select table_name from duckdb_tables() where schema_name = 'marts'")
    }
    assert set(STATE_MARTS) <= published
    n_states, n_customers_latest, n_latest = _query(
        settings.published,
        "select count(*), count(distinct case when is_latest then customer_id end), count(case when is_latest then 1 end)"
        " from marts.fct_customer_emotional_states",
    )[0]
    n_customers = _query(settings.published, "select count(*) from marts.dim_customers")[0][0]
    assert n_states > n_customers
    assert n_customers_latest == n_latest == n_customers  # one state today for everyone, silent or not
    assert _query(settings.published, "select count(*) from marts.fct_nps_predicted")[0][0] == n_customers
    bad = _query(
        settings.published,
        "select count(*) from marts.fct_customer_emotional_states where empathy_score not between 0 and 100"
        " or abs(empathy_score - (50 + 50 * valence)) > 1e-9 or confidence not between 0 and 1",
    )[0][0]
    assert bad == 0


def test_library_has_every_seed_event_and_outcome(text_built):  # noqa: F811
    settings, _ = text_built
    seed = _query(settings.warehouse, "select count(*) from reference.event_types")[0][0]
    rows = _query(settings.published, "select count(*), count(distinct event_type) from marts.dim_event_library")[0]
    assert rows == (3 * seed, seed)


def test_explanations_point_at_states(text_built):  # noqa: F811
    settings, _ = text_built
    orphans, latest_explained = _query(
        settings.published,
        "select count(*) filter (where s.customer_day_id is null),"
        " count(distinct e.customer_day_id) filter (where s.is_latest)"
        " from marts.fct_state_explanations e"
        " left join marts.fct_customer_emotional_states s using (customer_day_id)",
    )[0]
    assert orphans == 0 and latest_explained > 0


def test_yml_documents_every_column_of_the_state_models(text_built):  # noqa: F811
    settings, _ = text_built
    documented = {}
    for path in ("intermediate/state/_state__models.yml", "marts/state/_state__models.yml"):
        for model in yaml.safe_load((PROJECT_DIR / "models" / path).read_text())["models"]:
            documented[model["name"]] = [c["name"] for c in model["columns"]]
    for name in (*STATE_MARTS, *STATE_INTERMEDIATE):
        actual = [
            c
            for (c,) in _query(
                settings.warehouse,
                "select column_name from duckdb_columns() where table_name = ? order by column_index",
                [name],
            )
        ]
        assert documented[name] == actual, name


@pytest.mark.parametrize("days_back", [10])
def test_incremental_customer_days_equal_a_full_refresh(text_built, days_back):  # noqa: F811
    """Build int_customer_days as of an earlier day, then incrementally to the end: same rows as a full rebuild."""
    settings, _ = text_built
    end = WORLD_END if isinstance(WORLD_END, date) else date.fromisoformat(str(WORLD_END))
    earlier = end - timedelta(days=days_back)
    select = ["-s", "int_customer_days"]

    def build(as_of: date, *extra: str) -> None:
        result = run_dbt(settings, ["run", *select, "--vars", f"{{as_of_date: '{as_of}'}}", *extra])
        assert result.ok, "\n".join(result.failures)

    snapshot = "select * exclude (is_latest) from intermediate.int_customer_days order by customer_day_id"
    build(earlier, "--full-refresh")
    assert _query(settings.warehouse, "select max(state_date) from intermediate.int_customer_days")[0][0] == earlier
    build(end)
    incremental = _query(settings.warehouse, snapshot)
    build(end, "--full-refresh")
    full = _query(settings.warehouse, snapshot)
    assert len(incremental) == len(full) > 0
    # equal, floats up to summation order (DuckDB's parallel window sums may add in another order)
    for a, b in zip(incremental, full, strict=True):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            if isinstance(x, float) and isinstance(y, float):
                assert math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9), (a[0], x, y)
            else:
                assert x == y, (a[0], x, y)
