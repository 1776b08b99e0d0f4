"""The fairness audit: a demo-like world passes with a row for every score and attribute, and a planted bias fails
the build with a message naming the metric, the score and the group."""

from __future__ import annotations

import shutil

import pytest
import yaml

from empathy.dbt import run_dbt
from tests.conftest import PROJECT_DIR, make_settings, query
from tests.test_text_marts import text_built  # noqa: F401  (the module fixture: gate, dbt build, publish)

SOURCES = {  # subject -> the mart and the filter whose rows it audits
    "churn_high_risk": "marts.fct_churn_scores where churn_risk_band is not null",
    "empathy_distressed": "marts.fct_customer_emotional_states where is_latest and empathy_band is not null",
    "nps_detractor": "marts.fct_nps_predicted where predicted_nps_group is not null",
    "do_not_market": "marts.fct_next_actions",
    "reassure": "marts.fct_next_actions",
    "retain": "marts.fct_next_actions where is_retain",
    "upsell": "marts.fct_next_actions",
    "route_to_senior_agent": "marts.fct_next_actions",
}
ATTRIBUTES = {
    "age_band": "coalesce(age_band, cast(birth_year as varchar))",
    "gender": "nullif(gender, 'unknown')",
    "country": "country",
    "language": "language",
}


def test_small_world_passes_with_rows_for_every_score_and_attribute(text_built):  # noqa: F811
    settings, summary = text_built
    assert summary.dbt.count("test", "fail") == 0 and summary.dbt.count("test", "error") == 0
    db = settings.published
    audited = {(s, a) for s, a in query(db, "select distinct subject, group_attribute from marts.fct_fairness_audit")}
    present = [s for s, where in SOURCES.items() if query(db, f"select count(*) from {where}")[0][0] > 0]
    known = [a for a, expr in ATTRIBUTES.items() if query(db, f"select count({expr}) from marts.dim_customers")[0][0]]
    assert "empathy_distressed" in present and len(known) == 4
    assert {(s, a) for s in present for a in known} <= audited
    # aggregates only: no customer identifier, every group's size adds up to the customers with a known value
    columns = {
        c for (c,) in query(db, "select column_name from duckdb_columns() where table_name = 'fct_fairness_audit'")
    }
    assert not [c for c in columns if "customer" in c]
    sizes = dict(
        query(
            db,
            "select group_attribute, sum(group_size) from marts.fct_fairness_audit"
            " where subject = 'empathy_distressed' and metric = 'positive_rate' group by 1",
        )
    )
    n_latest = query(db, "select count(*) from marts.fct_customer_emotional_states where is_latest")[0][0]
    assert 0 < sizes["country"] <= n_latest and 0 < sizes["gender"] < sizes["country"]
    # nothing breaches; small groups are reported, never judged
    breaches = query(db, "select count(*) from marts.fct_fairness_audit where is_judged and not is_passed")
    assert breaches[0][0] == 0
    small = query(
        db,
        "select count(*), count(case when is_judged then 1 end) from marts.fct_fairness_audit"
        " where group_size < min_group_size and threshold is not null",
    )[0]
    assert small[1] == 0
    # rates are shares; the disparate impact ratio is at most 1 among judgeable groups, and 1 for the best served
    bad = query(db, "select count(*) from marts.fct_fairness_audit where metric = 'positive_rate' and metric_value > 1")
    assert bad[0][0] == 0
    best = query(
        db,
        "select subject, population, group_attribute, max(metric_value) from marts.fct_fairness_audit"
        " where metric = 'disparate_impact_ratio' and group_size >= min_group_size group by 1, 2, 3",
    )
    assert best and all(abs(top - 1) < 1e-9 for *_, top in best)
    # what it could not audit, it says why: the models behind the absent scores
    status, reason = query(db, "select status, reason from audit.mart_status where model = 'fct_fairness_audit'")[0]
    assert status in ("ok", "degraded")
    if "nps_detractor" not in present:
        assert status == "degraded" and "NPS answers" in reason
    if "churn_high_risk" not in present:
        assert status == "degraded" and "int_model_registry.churn" in reason
    documented = yaml.safe_load((PROJECT_DIR / "models/marts/trust/_trust__models.yml").read_text())["models"]
    assert columns == {c["name"] for c in documented[0]["columns"]}


@pytest.fixture
def planted(text_built, tmp_path):  # noqa: F811
    """A copy of the built warehouse whose next actions keep every woman, and no one else, away from marketing."""
    settings, _ = text_built
    copy = make_settings(tmp_path / "home", landing=settings.landing)
    shutil.copy(settings.warehouse, copy.warehouse)
    shutil.copytree(settings.dbt_target, copy.dbt_target, dirs_exist_ok=True)
    import duckdb

    con = duckdb.connect(str(copy.warehouse))
    try:
        con.execute("delete from intermediate.int_next_actions")
        con.execute(
            "insert into intermediate.int_next_actions (next_action_id, customer_id, score_date, is_do_not_market,"
            " is_reassure, is_upsell_ready, is_route_to_senior_agent)"
            " select customer_id || ':2026-07-01', customer_id, date '2026-07-01', gender = 'female', false, false,"
            " false from marts.dim_customers"
        )
        women = con.execute("select count(*) from marts.dim_customers where gender = 'female'").fetchone()[0]
    finally:
        con.close()
    assert women >= 50
    return copy


def test_planted_bias_fails_the_build_naming_metric_score_and_group(planted):
    result = run_dbt(planted, ["build", "--select", "fct_fairness_audit"])
    assert not result.ok
    message = "\n".join(result.failures)
    assert "disparate_impact_ratio of do_not_market (scored) for gender = female: 0.0, needs at least 0.8" in message
    assert "gender = male" not in message
    rows = query(
        planted.warehouse,
        "select group_value, metric_value, is_passed from marts.fct_fairness_audit"
        " where subject = 'do_not_market' and group_attribute = 'gender' and metric = 'disparate_impact_ratio'",
    )
    assert ("female", 0.0, False) in rows and ("male", 1.0, True) in rows
