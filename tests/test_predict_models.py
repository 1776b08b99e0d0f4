"""Churn / next-action modelling, metrics and backtests on synthetic snapshot tables (no warehouse)."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from empathy.predict import backtest as bt
from empathy.predict import candidates as cd
from empathy.predict import churn as ch
from empathy.predict import metrics as mt
from empathy.predict import selection as sel
from empathy.predict.warehouse import probability_sql, sql_parity

GRID = [date(2026, 1, 1) + timedelta(days=14 * i) for i in range(14)]


def snapshots(n_per_date: int = 600, seed: int = 3, dates=GRID) -> pa.Table:
    """Snapshot rows whose churn depends on recency, a text level and a bring-your-own number."""
    rng = np.random.default_rng(seed)
    rows = []
    for d in dates:
        n = n_per_date
        recency = rng.exponential(40, n)
        recency[rng.random(n) < 0.1] = np.nan
        tier = rng.choice(["bronze", "silver", "gold", None], n, p=[0.5, 0.3, 0.15, 0.05])
        household = rng.integers(1, 6, n).astype(float)
        logit = -3.5 + 0.03 * np.nan_to_num(recency, nan=120) - 1.5 * (tier == "gold") + 0.6 * household
        churned = rng.random(n) < 1 / (1 + np.exp(-logit))
        action = np.where(churned, "churn", rng.choice(["purchase", "none", "contact_support", "complain"], n))
        rows.append(
            pa.table(
                {
                    "customer_snapshot_id": [f"C{i}:{d}" for i in range(n)],
                    "customer_id": [f"C{i}" for i in range(n)],
                    "snapshot_date": pa.array([d] * n, pa.date32()),
                    "feature_date": pa.array([d - timedelta(days=1)] * n, pa.date32()),
                    "is_scoring_snapshot": [False] * n,
                    "is_grid_snapshot": [True] * n,
                    "history_days": pa.array([200] * n, pa.int32()),
                    "is_eligible": [True] * n,
                    "days_since_order": pa.array(recency, from_pandas=True),  # NaN -> null, as in SQL
                    "orders_365d": pa.array(rng.poisson(4, n)),
                    "days_since_engagement": pa.array(np.nan_to_num(recency, nan=300) / 2),
                    "byo__loyalty_tier": pa.array(tier, pa.string()),
                    "byo__household_size": pa.array(household),
                    "is_churned": pa.array(churned),
                    "next_action": pa.array(action),
                }
            )
        )
    return pa.concat_tables(rows)


def test_spec_reads_numbers_and_text_and_skips_keys():
    rows = snapshots(50, dates=GRID[:1]).drop_columns(["is_churned", "next_action"])
    spec = ch.infer_spec(rows)
    assert set(spec.numeric) == {"days_since_order", "orders_365d", "days_since_engagement", "byo__household_size"}
    assert set(spec.categorical) == {"byo__loyalty_tier"}
    assert set(spec.categorical["byo__loyalty_tier"]) == {"bronze", "silver", "gold"}
    assert ch.FeatureSpec.from_json(spec.to_json()) == spec
    # the fingerprint ignores levels but not columns
    assert ch.FeatureSpec(spec.numeric, {"byo__loyalty_tier": ("x",)}).fingerprint() == spec.fingerprint()
    assert ch.FeatureSpec(spec.numeric[:-1], spec.categorical).fingerprint() != spec.fingerprint()


def test_design_matrix_names_a_missing_column():
    rows = snapshots(20, dates=GRID[:1])
    spec = ch.infer_spec(rows.drop_columns(["is_churned", "next_action"]))
    with pytest.raises(ValueError, match="byo__household_size"):
        ch.design_matrix(rows.drop_columns(["byo__household_size"]), spec)


def test_training_window_uses_only_complete_labels():
    w = ch.training_window(GRID, data_end=GRID[8] + timedelta(days=89), horizon_days=90)
    assert w.calibration_date == GRID[8]
    assert w.train_dates == tuple(GRID[:8])
    w = ch.training_window(GRID, data_end=GRID[8] + timedelta(days=88), horizon_days=90)
    assert w.calibration_date == GRID[7]
    with pytest.raises(ch.NotEnoughHistory, match="need at least 2"):
        ch.training_window(GRID, data_end=GRID[1] + timedelta(days=88), horizon_days=90)


def test_backtest_origins_never_see_their_outcomes():
    horizon = 90
    origins = bt.origins_with_windows(GRID, horizon, None, 3)
    assert [o for o, _ in origins] == sorted(GRID, reverse=True)[:3]
    for origin, window in origins:
        # every training and calibration label is complete the day before the origin
        for d in (*window.train_dates, window.calibration_date):
            assert d + timedelta(days=horizon - 1) <= origin - timedelta(days=1)


@pytest.fixture(scope="module")
def fitted():
    rows = snapshots()
    window = ch.training_window(GRID[:-1], data_end=GRID[-2] + timedelta(days=89), horizon_days=90)
    train = bt._rows_on(rows, window.train_dates)
    cal = bt._rows_on(rows, [window.calibration_date])
    spec = ch.infer_spec(train.drop_columns(["is_churned", "next_action"]))
    model = ch.fit_churn(train, bt._labels(train), cal, bt._labels(cal), spec=spec, threads=1)
    return rows, model


def test_churn_model_ranks_held_out_rows(fitted):
    rows, model = fitted
    test = bt._rows_on(rows, [GRID[-1]])
    summary = mt.binary_summary(bt._labels(test), ch.churn_probability(model, test))
    assert summary["auc"] > 0.7  # the simulated signal is strong; a broken encoding drops to ~0.5
    assert summary["ece"] < 0.08


def test_scoring_sql_matches_python_including_unseen_levels_and_nulls(fitted):
    rows, model = fitted
    test = bt._rows_on(rows, [GRID[-1]])
    tiers = test["byo__loyalty_tier"].to_pylist()
    tiers[:5] = ["platinum", None, "GOLD", "gold", "bronze"]  # an unseen level, a null, a case variant
    test = test.set_column(test.column_names.index("byo__loyalty_tier"), "byo__loyalty_tier", pa.array(tiers))
    sql = probability_sql(model)
    assert sql_parity(model, sql, test) < 1e-9
    with duckdb.connect() as con:
        con.register("snapshots", test)
        got = np.asarray(con.execute(f"select {sql} as p from snapshots").fetchnumpy()["p"], dtype=float)
    assert np.all((got > 0) & (got < 1))


def test_contributions_add_up_to_the_probability(fitted):
    rows, model = fitted
    test = bt._rows_on(rows, [GRID[-1]])
    groups, p, p0 = ch.churn_contributions(model, test)
    np.testing.assert_allclose(groups.sum(axis=1).to_numpy(), (p - p0) * 100, atol=1e-6)
    np.testing.assert_allclose(p, ch.churn_probability(model, test), atol=1e-12)
    assert "profile" in groups.columns  # byo__ columns are grouped under the profile driver


def test_next_action_probabilities_are_distributions(fitted):
    rows, model = fitted
    train = bt._rows_on(rows, GRID[:10])
    na = ch.fit_next_action(train, np.asarray(train["next_action"].to_pylist()), model.spec, threads=1)
    proba = ch.next_action_probabilities(na, bt._rows_on(rows, [GRID[-1]]))
    assert proba.shape[1] == len(ch.NEXT_ACTIONS)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
    with pytest.raises(ValueError, match="unknown next actions"):
        ch.fit_next_action(train, np.array(["leave"] * train.num_rows), model.spec)


def test_run_backtests_reports_every_candidate_on_the_same_rows(fitted):
    rows, model = fitted
    table = bt.run_backtests(
        rows, model_version="v1", horizon_days=90, origins=2, min_first_date=None, spec=model.spec, threads=1
    )
    frame = table.to_pandas()
    assert set(frame.model_name) == {"churn", "next_action"}
    assert set(frame[frame.model_name == "churn"].candidate) == set(cd.CANDIDATES)
    assert set(frame.evaluation) == {"out_of_time"}
    assert frame.origin_date.nunique() == 2
    summary = frame[(frame.section == "summary") & (frame.model_name == "churn")]
    assert {"auc", "pr_auc", "brier", "log_loss", "ece", "top_decile_lift"} <= set(summary.metric)
    # every candidate is judged on the same rows at each origin
    counts = summary[summary.metric == "n"].groupby("origin_date").value.nunique()
    assert (counts == 1).all()
    deciles = frame[(frame.section == "decile") & (frame.metric == "cumulative_gain") & (frame.model_name == "churn")]
    last = deciles.groupby(["origin_date", "candidate"]).value.max()
    np.testing.assert_allclose(last.to_numpy(), 1.0)  # all churners are captured by decile 10
    assert frame.backtest_row_id.is_unique
    auc = summary[summary.metric == "auc"].groupby("candidate").value.mean()
    assert auc["lightgbm"] > auc["recency_baseline"]  # the baseline lacks the tier and household signal
    assert auc["logistic_binned"] > auc["recency_baseline"]
    losses = sel.mean_log_loss(table)
    assert set(losses) == set(cd.CANDIDATES)
    assert losses[sel.choose(losses)] == min(losses.values())


def test_metrics_on_known_values():
    y = np.array([0, 0, 1, 1])
    p = np.array([0.1, 0.4, 0.35, 0.8])
    s = mt.binary_summary(y, p)
    assert s["auc"] == pytest.approx(0.75)
    assert s["brier"] == pytest.approx(np.mean((p - y) ** 2))
    # ECE by hand: bins 0.1 -> [0], 0.3 -> [1], 0.4 -> [0], 0.8 -> [1]
    assert s["ece"] == pytest.approx((0.1 + 0.65 + 0.4 + 0.2) / 4)
    table = mt.decile_table(np.array([1, 0, 0, 0]), np.array([0.9, 0.2, 0.1, 0.05]), groups=2)
    assert table[0]["lift"] == pytest.approx(2.0) and table[0]["cumulative_gain"] == 1.0
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        mt.binary_summary(y, p + 1)
    m = mt.multiclass_summary(np.array(["a", "b", "a"]), np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6]]), ["a", "b"])
    assert m["accuracy"] == pytest.approx(2 / 3) and m["majority_accuracy"] == pytest.approx(2 / 3)


def test_too_few_churners_is_a_clear_error():
    rows = snapshots(30, dates=GRID[:3])
    y = np.zeros(rows.num_rows)
    with pytest.raises(ch.NotEnoughHistory, match="churners"):
        ch.fit_churn(rows, y, rows, y)
