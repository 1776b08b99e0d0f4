"""Predictions end to end on a world long enough to train: churn scores as SQL, value, next actions, backtests.

The world is the retail demo (1,500 customers, 330 days) with extra columns a company might send in customers
and subscriptions, some of which must become features and some of which the exclusion list must keep out.
"""

from __future__ import annotations

import json
import math
import re
import shutil
from datetime import date, timedelta

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from empathy.dbt import run_dbt
from tests import worlds
from tests.conftest import PROJECT_DIR, SHARED_DATA, build_world, make_settings, query, shared
from tests.test_text_marts import _text_model_or_skip

PREDICTION_MARTS = (
    "fct_churn_scores",
    "fct_clv",
    "fct_next_actions",
    "fct_model_backtests",
    "dim_model_versions",
    "fct_score_explanations",
)
PREDICTION_INTERMEDIATE = (
    "int_churn_horizon",
    "int_churn_holdout_scores",
    "int_customer_snapshots",
    "int_customer_snapshot_outcomes",
    "int_model_registry",
    "int_next_action_probabilities",
)
END = date(2026, 6, 30)
# extra columns: (table, name, values(n, rng), expected to become a feature)
EXTRAS = [
    ("customers", "nps_last_year", lambda n, rng: rng.integers(0, 11, n).astype("float64"), True),
    ("customers", "is_vip", lambda n, rng: rng.random(n) < 0.1, True),
    ("customers", "preferred_store_id", lambda n, rng: rng.integers(1, 50, n).astype("int64"), False),
    ("customers", "ethnicity", lambda n, rng: rng.choice(["a", "b", "c"], n), False),
    ("subscriptions", "seats", lambda n, rng: rng.integers(1, 20, n).astype("int64"), True),
]


def _add_extra_columns(landing) -> None:
    rng = np.random.default_rng(5)
    for table in {t for t, *_ in EXTRAS}:
        for path in sorted((landing / table).rglob("*.parquet")):
            data = pq.read_table(path)
            for t, name, values, _ in EXTRAS:
                if t == table:
                    data = data.append_column(name, pa.array(values(data.num_rows, rng)))
            pq.write_table(data, path)


@pytest.fixture(scope="module")
def predict_built(tmp_path_factory):
    """Gate, dbt build (two backtest origins) and publish on the 1,500-customer world, built once per test session
    (test_model_card reads it too); read it, never write it."""
    from empathy.generate import generate

    _text_model_or_skip()

    def build(folder):
        landing = folder / "landing"
        generate(landing, customers=1500, days=330, seed=11, sector="retail", end_date=END)
        _add_extra_columns(landing)
        return build_world(folder / "home", landing, {"backtest_origins": 2})

    return shared(tmp_path_factory, "predict_built", build)


def test_prediction_marts_build_and_publish(predict_built):
    settings, summary = predict_built
    assert summary.dbt.count("test", "fail") == 0 and summary.dbt.count("model", "error") == 0
    published = {
        t for (t,) in query(settings.published, "select table_name from duckdb_tables() where schema_name = 'marts'")
    }
    assert set(PREDICTION_MARTS) <= published
    n, low, high, bands = query(
        settings.published,
        "select count(*), min(churn_probability), max(churn_probability), count(distinct churn_risk_band)"
        " from marts.fct_churn_scores",
    )[0]
    assert n > 500 and 0 < low < high < 1 and bands >= 2
    models = dict(query(settings.published, "select model_name, count(*) from marts.dim_model_versions group by 1"))
    assert {"churn", "next_action", "clv_bgnbd"} <= set(models)
    assert query(settings.published, "select count(*) from marts.fct_next_actions")[0][0] == n
    targets = dict(
        query(
            settings.published,
            "select target, count(distinct customer_id) from marts.fct_score_explanations group by 1",
        )
    )
    assert targets["churn"] == n and targets["order_value"] > 0
    clv = query(settings.published, "select count(*), sum(clv), min(clv) from marts.fct_clv")[0]
    assert clv[1] > 0 and clv[2] >= 0


def test_explanations_carry_evidence_of_what_happened(predict_built):
    settings, _ = predict_built
    rows = query(settings.published, "select target, driver, evidence from marts.fct_score_explanations")
    assert rows and all(evidence for *_, evidence in rows)
    assert not [e for *_, e in rows if re.search(r":\s*0(?![\d.])", e)]
    assert "baseline" in {d for t, d, _ in rows if t == "churn"}
    # a churn driver named after late deliveries only for customers with one in the scoring snapshot's window
    unfounded = query(
        settings.warehouse,
        "select count(*) from marts.fct_score_explanations e"
        " inner join intermediate.int_customer_snapshots s"
        " on s.customer_id = e.customer_id and s.snapshot_date = e.score_date and s.is_scoring_snapshot"
        " where e.target = 'churn' and e.driver = 'late_delivery' and coalesce(s.late_deliveries_90d, 0) = 0"
        " and coalesce(s.late_deliveries_30d, 0) = 0 and coalesce(s.overdue_parcels, 0) = 0",
    )[0][0]
    assert unfounded == 0


def test_backtests_are_out_of_time_and_complete(predict_built):
    settings, _ = predict_built
    rows = query(
        settings.published,
        "select origin_date, calibration_date, training_end_date, metric, value from marts.fct_model_backtests"
        " where model_name = 'churn' and section = 'summary'",
    )
    origins = {r[0] for r in rows}
    assert len(origins) == 2
    horizon = query(settings.warehouse, "select horizon_days from intermediate.int_churn_horizon")[0][0]
    for origin, calibration, train_end, *_ in rows:
        assert calibration + timedelta(days=horizon - 1) < origin and train_end < calibration
    metrics = {r[3]: r[4] for r in rows}
    assert {"auc", "pr_auc", "brier", "ece", "top_decile_lift"} <= set(metrics)
    assert 0.6 < metrics["auc"] <= 1.0  # a real signal, measured out of time
    sections = {s for (s,) in query(settings.published, "select distinct section from marts.fct_model_backtests")}
    assert sections == {"summary", "calibration", "decile", "class"}


def test_sql_scores_equal_the_python_model(predict_built):
    """The warehouse's scores come from the compiled SQL; the Python model gives the same numbers."""
    from empathy.predict import churn as ch
    from empathy.predict.warehouse import current_versions, load_churn

    settings, _ = predict_built
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        version = current_versions(con.table("intermediate.int_model_registry").to_arrow_table())["churn"]
        rows = con.execute(
            "select s.*, c.churn_probability as sql_probability from intermediate.int_customer_snapshots s"
            " inner join marts.fct_churn_scores c on s.customer_id = c.customer_id and s.snapshot_date = c.score_date"
        ).to_arrow_table()
    finally:
        con.close()
    # the chosen candidate compiled to SQL: trees and binned weights as CASE, the baseline as a formula
    sql_text = version["scoring_sql"].lower()
    assert "lightgbm" not in sql_text and ("case" in sql_text or version["candidate"] == "recency_baseline")
    python = ch.churn_probability(load_churn(version), rows)
    sql = np.asarray(rows["sql_probability"].to_numpy(zero_copy_only=False), dtype=float)
    assert rows.num_rows > 500
    assert np.max(np.abs(sql - python)) < 1e-6
    recorded = query(
        settings.published, "select sql_parity_max_abs_diff from marts.dim_model_versions where model_name = 'churn'"
    )[0][0]
    assert recorded < 1e-6


def test_bring_your_own_columns_become_features_unless_excluded(predict_built):
    settings, _ = predict_built
    columns = {
        c
        for (c,) in query(
            settings.warehouse,
            "select column_name from duckdb_columns() where table_name = 'int_customer_snapshots'",
        )
    }
    features = json.loads(
        query(settings.warehouse, "select features from intermediate.int_model_registry where model_name = 'churn'")[0][
            0
        ]
    )
    names = set(features["numeric"]) | set(features["categorical"])
    for table, name, _, kept in EXTRAS:
        feature = ("byo_subscription__" if table == "subscriptions" else "byo__") + name
        assert (feature in columns) is kept, feature
        assert (feature in names) is kept, feature
    assert "byo__loyalty_tier" in features["categorical"]  # text columns become categorical features
    for sensitive in ("gender", "birth_year", "age_band", "country", "language"):
        assert sensitive not in names


@pytest.mark.xfail(
    strict=True,
    reason="known leak: order items are read at their latest version, so a return reason corrected after t "
    "(C00000437, defective -> changed_mind) changes defect_returns_90d at t; needs order items as known at t",
)
def test_features_at_t_do_not_change_when_later_data_changes(predict_built, tmp_path):
    """Cut every raw table at t (as if the data ended the day before) and rebuild: the features at t are equal."""
    settings, _ = predict_built
    t = query(
        settings.warehouse,
        "select snapshot_date from intermediate.int_customer_snapshots where is_grid_snapshot"
        " group by 1 order by 1 desc limit 1 offset 8",
    )[0][0]
    # is_scoring_snapshot says whether t is the day after the last data, which the cut changes by design
    snapshot_sql = (
        "select * exclude (is_scoring_snapshot) from intermediate.int_customer_snapshots"
        " where snapshot_date = ? order by customer_id"
    )
    before = query(settings.warehouse, snapshot_sql, [t])
    assert len(before) > 100

    cut = make_settings(tmp_path / "cut", landing=settings.landing)
    shutil.copy(settings.warehouse, cut.warehouse)
    con = duckdb.connect(str(cut.warehouse))
    try:
        deleted = 0
        # the landing day of a raw row is the day= folder of its file (never a column)
        landed = "cast(regexp_extract(_file, 'day=([0-9]{4}-[0-9]{2}-[0-9]{2})', 1) as date)"
        for (table,) in con.execute("select table_name from duckdb_tables() where schema_name = 'raw'").fetchall():
            deleted += con.execute(f'delete from raw."{table}" where {landed} >= ?', [t]).fetchone()[0]
        # and a change after t that is not a deletion: a big order the day after t for every customer
        con.execute(
            "insert into raw.orders by name select * replace ("
            "  'X' || order_id as order_id, cast(? as timestamp) + interval 1 day as ordered_at,"
            "  cast(? as timestamp) + interval 1 day as updated_at)"
            f" from raw.orders where {landed} < ?"
            f" qualify row_number() over (partition by customer_id order by {landed}, order_id) = 1",
            [t, t, t],
        )
    finally:
        con.close()
    assert deleted > 1000
    # The text models' outputs are model artefacts, versioned apart from the data: the scoring cache (a text
    # is scored once per text-model version) and the company's own sentiment model, refitted on all reviews
    # each build (DECISIONLOG.md). They are kept as they were; everything else is rebuilt from the cut data.
    text_models = ["int_text_signals__scored", "int_sentiment_model_evaluations", "int_text_signals"]
    result = run_dbt(cut, ["run", "-s", "+int_customer_snapshots", "--exclude", *text_models, "--full-refresh"])
    assert result.ok, "\n".join(result.failures)
    after = query(cut.warehouse, snapshot_sql, [t])
    assert len(after) == len(before)
    columns = [
        c
        for (c,) in query(cut.warehouse, "select column_name from (describe intermediate.int_customer_snapshots)")
        if c != "is_scoring_snapshot"
    ]
    for a, b in zip(after, before, strict=True):
        assert len(a) == len(b)
        for column, x, y in zip(columns, a, b, strict=False):
            if isinstance(x, float) and isinstance(y, float):  # window sums may add in another order
                assert math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9), (a[0], column, x, y)
            else:
                assert x == y, (a[0], column, x, y)
    # the cut did change what came after t: the only orders on or after t are the ones added on t + 1
    dates = query(
        cut.warehouse,
        "select distinct cast(ordered_at as date) from staging.stg_commerce__orders where ordered_at >= ?",
        [t],
    )
    assert dates == [(t + timedelta(days=1),)]


def test_retraining_adds_a_version_that_the_sql_model_then_uses(predict_built, tmp_path):
    settings, _ = predict_built
    copy = make_settings(tmp_path / "retrain", landing=settings.landing)
    shutil.copy(settings.warehouse, copy.warehouse)
    count = "select count(*) from intermediate.int_model_registry where model_name = 'churn'"
    n0 = query(copy.warehouse, count)[0][0]
    result = run_dbt(copy, ["run", "-s", "int_model_registry"])
    assert result.ok and query(copy.warehouse, count)[0][0] == n0  # not due: nothing new
    result = run_dbt(copy, ["run", "-s", "int_model_registry", "int_churn_scores", "--vars", "{retrain_every_days: 0}"])
    assert result.ok, "\n".join(result.failures)
    versions = [
        v
        for (v,) in query(
            copy.warehouse,
            "select model_version from intermediate.int_model_registry"
            " where model_name = 'churn' order by model_version",
        )
    ]
    assert len(versions) == n0 + 1 and versions[-1].endswith("-r2")
    used = {v for (v,) in query(copy.warehouse, "select distinct model_version from marts.fct_churn_scores")}
    assert used == {versions[-1]}


def test_yml_documents_every_column_of_the_prediction_models(predict_built):
    settings, _ = predict_built
    documented = {}
    for path in ("intermediate/predictions/_predictions__models.yml", "marts/predictions/_predictions__models.yml"):
        for model in yaml.safe_load((PROJECT_DIR / "models" / path).read_text())["models"]:
            documented[model["name"]] = {c["name"] for c in model["columns"]}
    for name in (*PREDICTION_MARTS, *PREDICTION_INTERMEDIATE):
        actual = {
            c
            for (c,) in query(
                settings.warehouse, "select column_name from duckdb_columns() where table_name = ?", [name]
            )
        }
        # bring-your-own columns depend on the company's data; the others must all be documented
        missing = {c for c in actual - documented[name] if not c.startswith("byo")}
        assert not missing, (name, missing)


def test_eval_models_reports_backtests_parity_value_and_truth(predict_built):
    from empathy.predict.evaluate import evaluate_models, to_markdown

    settings, _ = predict_built
    rows = evaluate_models(settings.warehouse, settings.landing / "_truth", origins=2)
    by_section = {}
    for r in rows:
        by_section.setdefault(r.section, []).append(r)
    parity = by_section["scores as SQL"][0]
    assert parity.value < 1e-6 and "transpiles" in parity.reference
    chosen = query(settings.published, "select candidate from marts.dim_model_versions where model_name = 'churn'")
    backtest = by_section[f"churn backtest, {chosen[0][0]} (mean)"]  # the chosen candidate beside the others
    assert {r.metric for r in backtest} >= {"auc", "pr_auc", "brier", "log_loss", "ece"}
    others = {"lightgbm", "logistic_binned", "recency_baseline"} - {chosen[0][0]}
    assert all(c in r.reference for r in backtest for c in others)
    truth = {r.metric: r.value for r in by_section["demo truth (mean over origins)"]}
    assert 0.5 < truth["churn AUC against true churn (gone by t + H)"] <= 1
    if (SHARED_DATA / "cdnow" / "CDNOW_sample.txt").exists():
        assert "value: CDNOW, 39-week calibration" in by_section
    assert "| scores as SQL |" in to_markdown(rows)


def test_segments_give_every_customer_one_segment_and_keep_it_on_quiet_days(predict_built):
    """The published segments: one per customer on the latest day, the dimension's sizes summing to them, each
    with a reason, and at least 90% of customers keep their segment from one quiet day to the next."""
    from empathy.segments.stability import day_to_day_stability

    settings, _ = predict_built
    rows, customers, reasons = query(
        settings.published,
        "select count(*), count(distinct customer_id), count(segment_reason) from marts.fct_customer_segments"
        " where is_latest",
    )[0]
    assert rows == customers == reasons > 1000
    sizes, share, segments = query(
        settings.published,
        "select sum(customers), sum(customer_share), count(*) filter (where customers > 0)"
        " from marts.dim_empagraphic_segments",
    )[0]
    assert sizes == customers and abs(share - 1) < 1e-9 and segments >= 5
    with duckdb.connect(str(settings.published), read_only=True) as con:
        history = con.sql(
            "select customer_id, segment_date, segment_id, had_interaction from marts.fct_customer_segments"
        ).to_arrow_table()
    stability = day_to_day_stability(history)
    print(f"segment stability {stability}")
    assert stability.share >= 0.9
    moved = query(settings.published, "select sum(customers) from marts.fct_segment_transitions")[0][0]
    assert moved > 0


def test_activation_marts_respect_consent_and_never_sell_to_customers_in_distress(predict_built):
    """0 consent breaches, 0 sales offers in distress or with an open complaint, every contact on a consented
    channel; only customers with profiling consent are scored for activation; the outreach names real issues."""
    settings, _ = predict_built
    assert worlds.activation_breaches(settings.warehouse) == dict.fromkeys(
        (
            "not_scored_for_activation",
            "no_consent_on_channel",
            "marketing_without_consent_data",
            "sales_offer_in_distress_or_complaint",
        ),
        0,
    )
    scored, profiled = query(
        settings.warehouse,
        "select count(*), count(*) filter (where has_profiling_consent)"
        " from intermediate.int_customer_activation_signals where is_activation_scored",
    )[0]
    assert scored == profiled > 0
    actions, contacts, bases = query(
        settings.published,
        "select count(*), count(*) filter (where channel != 'none'), count(distinct consent_basis)"
        " from marts.fct_next_best_actions",
    )[0]
    assert actions == scored and contacts > 0 and bases >= 2
    lines = query(settings.published, "select known_issue, opening_line from marts.fct_outreach_list")
    assert lines and all(line and "{" not in line and "None" not in line for _, line in lines)
    reasons = {
        r for (r,) in query(settings.published, "select distinct reason_code from marts.fct_contact_suppressions")
    }
    assert {"no_consent", "over_contact"} <= reasons


def test_experiments_hold_out_by_the_hash_and_eval_actions_reports_uplift(predict_built):
    """Arms in the next best actions are the Python hash's; holdout customers are withheld and never on the
    outreach list; treatment outcomes are an estimate with its interval or null with a reason (never NaN); the
    evaluation finds no consent breach and no sales offer in distress."""
    from empathy.activation import evaluate, experiments

    settings, _ = predict_built
    arms = query(
        settings.warehouse,
        "select customer_id, experiment_id, experiment_arm, is_withheld from marts.fct_next_best_actions"
        " where experiment_id is not null",
    )
    assert arms
    for customer, experiment, arm, withheld in arms:
        assert arm == experiments.arm(experiment, customer, 0.2) and withheld == (arm == "holdout")
    holdout_outreach = query(
        settings.warehouse,
        "select count(*) from marts.fct_outreach_list as o where o.experiment_arm != 'treated'"
        " or o.customer_id in (select customer_id from marts.fct_next_best_actions"
        " where experiment_id like 'proactive_support_v%' and experiment_arm = 'holdout')",
    )[0][0]
    assert holdout_outreach == 0
    outcomes = query(
        settings.published, "select metric, status, estimate, ci_low, ci_high from marts.fct_treatment_outcomes"
    )
    assert outcomes and {m for m, *_ in outcomes} == {"order_rate", "churn_rate", "revenue_per_day", "sentiment"}
    for _, status, estimate, low, high in outcomes:
        if status == "estimated":
            assert low <= estimate <= high and not math.isnan(estimate)
        else:
            assert estimate is None and low is None and high is None
    measures = {m for (m,) in query(settings.published, "select measure_id from marts.fct_empathy_impact")}
    assert "marketing_cost_avoided_usd" in measures
    rows = evaluate.evaluate_actions(settings.warehouse, settings.landing / "_truth")
    assert not [r for r in rows if r.failed]
    assert any(r.metric == "CI coverage of the true effect" for r in rows)
    print(evaluate.to_markdown(rows))
