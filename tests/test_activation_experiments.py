"""Experiments: the holdout hash in Python and SQL, the interval maths, the demo world's past decisions."""

from __future__ import annotations

import math
import re
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from empathy.activation import experiments, uplift
from empathy.generate import activation

ROOT = Path(__file__).resolve().parents[1]


def _duckdb_bucket_sql() -> str:
    """The body of macro duckdb__experiment_bucket, applied to columns e and c."""
    text = (ROOT / "macros" / "experiment_bucket.sql").read_text()
    body = re.search(r"macro duckdb__experiment_bucket\(.*?\)\s*-%}(.*?){%-\s*endmacro", text, re.S).group(1)
    return body.replace("{{ experiment_expr }}", "e").replace("{{ customer_expr }}", "c").strip()


def test_sql_macro_and_python_give_the_same_bucket_and_arm_on_many_ids():
    pairs = [(f"{t}_v1", f"C{i:08d}") for t in activation.TREATMENT_IDS for i in range(0, 3000, 7)]
    con = duckdb.connect()
    con.register("pairs", pa.table({"e": [p[0] for p in pairs], "c": [p[1] for p in pairs]}))
    sql_buckets = [row[0] for row in con.execute(f"select {_duckdb_bucket_sql()} from pairs").fetchall()]
    py_buckets = [experiments.bucket(e, c) for e, c in pairs]
    assert sql_buckets == pytest.approx(py_buckets, abs=1e-12)
    sql_arms = [b < 0.2 for b in sql_buckets]
    assert sql_arms == list(experiments.is_holdout([p[0] for p in pairs], [p[1] for p in pairs], 0.2))


def test_holdout_share_is_close_to_the_declared_share_and_arms_are_independent_across_experiments():
    ids = [f"C{i:08d}" for i in range(20_000)]
    a = experiments.is_holdout(["upsell_offer_v1"] * len(ids), ids)
    b = experiments.is_holdout(["apology_recovery_v1"] * len(ids), ids)
    assert abs(a.mean() - 0.2) < 0.01
    assert abs((a & b).mean() - 0.04) < 0.006  # independent: 0.2 x 0.2


def test_a_holdout_share_outside_0_1_is_refused_with_the_var_to_set():
    with pytest.raises(ValueError, match="experiment_holdout_share"):
        experiments.arm("x_v1", "C1", 1.5)


def test_rate_ratio_interval_is_the_log_scale_poisson_interval():
    ratio, low, high = uplift.rate_ratio(40, 1000.0, 20, 1000.0)
    assert ratio == pytest.approx(2.0)
    half = 1.959963984540054 * math.sqrt(1 / 40 + 1 / 20)
    assert low == pytest.approx(2.0 * math.exp(-half))
    assert high == pytest.approx(2.0 * math.exp(half))


def test_robust_interval_widens_for_overdispersed_and_clustered_counts_only():
    rng = np.random.default_rng(8)
    days = np.full(2000, 60.0)
    clusters = np.arange(2000)
    poisson_t, poisson_h = rng.poisson(1.2, 2000), rng.poisson(1.0, 2000)
    _, low, high = uplift.robust_rate_ratio(poisson_t, days, clusters, poisson_h, days, clusters)
    _, p_low, p_high = uplift.rate_ratio(poisson_t.sum(), days.sum(), poisson_h.sum(), days.sum())
    assert high / low == pytest.approx(p_high / p_low, rel=0.1)  # Poisson data: about the Poisson interval
    rate_t, rate_h = rng.gamma(0.3, 1.2 / 0.3, 2000), rng.gamma(0.3, 1.0 / 0.3, 2000)  # customers differ
    over_t, over_h = rng.poisson(rate_t), rng.poisson(rate_h)
    _, low, high = uplift.robust_rate_ratio(over_t, days, clusters, over_h, days, clusters)
    _, p_low, p_high = uplift.rate_ratio(over_t.sum(), days.sum(), over_h.sum(), days.sum())
    assert math.log(high / low) > 1.5 * math.log(p_high / p_low)  # overdispersed: a much wider interval


def test_welch_interval_matches_scipy_ttest():
    from scipy import stats

    rng = np.random.default_rng(3)
    t, h = rng.normal(1.0, 2.0, 80), rng.normal(0.5, 1.0, 40)
    diff, low, high = uplift.welch_difference(t, h)
    ci = stats.ttest_ind(t, h, equal_var=False).confidence_interval(0.95)
    assert diff == pytest.approx(t.mean() - h.mean())
    assert (low, high) == pytest.approx((ci.low, ci.high))


def _exposures(n_per_arm: int, treated_orders: int, holdout_orders: int) -> pa.Table:
    arms = ["treated"] * n_per_arm + ["holdout"] * n_per_arm
    orders = [treated_orders] * n_per_arm + [holdout_orders] * n_per_arm
    return pa.table(
        {
            "experiment_id": ["x_v1"] * len(arms), "treatment_id": ["x"] * len(arms), "experiment_arm": arms,
            "customer_id": [f"C{i}" for i in range(len(arms))],
            "observed_days": [60] * len(arms), "orders": orders, "revenue_usd": [float(o) * 10 for o in orders],
            "is_churned": [None] * len(arms), "days_at_risk": [None] * len(arms),
        }
    )  # fmt: skip


def test_outcomes_estimate_what_they_can_and_say_why_not_for_the_rest():
    out = {r["metric"]: r for r in uplift.estimate_outcomes(_exposures(30, 2, 1)).to_pylist()}
    assert out["order_rate"]["status"] == "estimated"
    assert out["order_rate"]["estimate"] == pytest.approx(2.0)
    assert out["revenue_per_day"]["status"] == "estimated"
    assert out["churn_rate"]["status"] == "too_few_customers"
    assert out["churn_rate"]["estimate"] is None
    few = {r["metric"]: r for r in uplift.estimate_outcomes(_exposures(5, 2, 1)).to_pylist()}
    assert few["order_rate"]["status"] == "too_few_customers" and few["order_rate"]["ci_low"] is None


def test_sentiment_uplift_compares_only_the_exposures_followed_by_a_text():
    exposures = _exposures(30, 2, 1)
    # treated write at 0.3 and 0.5 alternately, the holdout at -0.1; 10 treated and 5 held-out exposures wrote nothing
    treated = [None if i < 10 else (0.3 if i % 2 else 0.5) for i in range(30)]
    holdout = [None if i < 5 else -0.1 for i in range(30)]
    out = {
        r["metric"]: r
        for r in uplift.estimate_outcomes(
            exposures.append_column("mean_sentiment_after", pa.array(treated + holdout, pa.float64()))
        ).to_pylist()
    }
    row = out["sentiment"]
    assert row["status"] == "estimated" and (row["n_treated"], row["n_holdout"]) == (20, 25)
    assert row["estimate"] == pytest.approx(0.5) and row["ci_low"] < 0.5 < row["ci_high"]
    few = exposures.append_column("mean_sentiment_after", pa.array([None] * 50 + [0.1] * 10, pa.float64()))
    short = {r["metric"]: r for r in uplift.estimate_outcomes(few).to_pylist()}["sentiment"]
    assert short["status"] == "too_few_customers" and "followed by a text" in short["status_reason"]


def test_no_exposures_give_an_empty_typed_table():
    empty = uplift.SCHEMA.empty_table()
    assert uplift.estimate_outcomes(empty).schema == uplift.SCHEMA


def test_the_simulated_product_decides_by_latent_state_and_never_markets_without_consent():
    valence = np.array([-0.6, -0.6, 0.0, 0.6, 0.6, 0.0, 0.0, 0.6])
    issue = np.array([False, False, True, False, False, False, False, False])
    valuable = np.array([True, False, False, True, False, False, False, False])
    consent = np.array([True, True, True, True, True, True, True, False])
    coin = np.array([0.9, 0.9, 0.9, 0.9, 0.9, 0.1, 0.9, 0.1])
    codes = activation.decide(valence, issue, valuable, consent, coin)
    names = [activation.TREATMENT_IDS[c] if c >= 0 else None for c in codes]
    assert names == [
        "human_review", "apology_recovery", "proactive_support", "upsell_offer", "loyalty_thanks",
        "standard_campaign", "softer_campaign", None,
    ]  # fmt: skip


def test_each_treatment_moves_one_outcome_and_the_truth_names_it():
    table = activation.effects_table()
    for t, metric, ratio in zip(activation.TREATMENT_EFFECTS, table["metric"], table["true_ratio"], strict=True):
        assert (t.churn_hazard_multiplier == 1.0) != (t.order_rate_multiplier == 1.0)
        assert ratio == (t.churn_hazard_multiplier if metric == "churn_rate" else t.order_rate_multiplier)


def test_the_seed_gives_every_simulated_treatment_the_generators_experiment_version():
    import csv

    with open(ROOT / "seeds" / "treatments.csv") as f:
        versions = {r["treatment_id"]: r["experiment_version"] for r in csv.DictReader(f)}
    for t in activation.TREATMENT_IDS:
        assert versions[t] == str(activation.EXPERIMENT_VERSION)
    assert versions["hold_marketing"] == ""


def test_demo_docs_print_the_treatment_effects():
    assert activation.effects_markdown() in (ROOT / "docs" / "demo_world.md").read_text()
