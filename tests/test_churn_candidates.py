"""The churn candidates (LightGBM, binned logistic regression, recency baseline): SQL parity, explanations that add
up, the choice by out-of-sample log loss and the customer holdout for data without history."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from empathy.predict import backtest as bt
from empathy.predict import candidates as cd
from empathy.predict import churn as ch
from empathy.predict import metrics as mt
from empathy.predict import selection as sel
from empathy.predict.warehouse import probability_sql, sql_parity
from tests.test_predict_models import GRID, snapshots


@pytest.fixture(scope="module")
def split():
    rows = snapshots(500, seed=11)
    window = ch.training_window(GRID[:-1], data_end=GRID[-2] + timedelta(days=89), horizon_days=90)
    train, cal = bt._rows_on(rows, window.train_dates), bt._rows_on(rows, [window.calibration_date])
    spec = ch.infer_spec(train.drop_columns(["is_churned", "next_action"]))
    return rows, train, cal, spec


@pytest.mark.parametrize("candidate", cd.CANDIDATES)
def test_candidate_sql_matches_python_with_nulls_and_unseen_levels(split, candidate):
    rows, train, cal, spec = split
    params = ch.candidate_params(candidate) | ({"num_boost_round": 20} if candidate == "lightgbm" else {})
    model = ch.fit_churn(train, bt._labels(train), cal, bt._labels(cal), spec=spec, params=params, threads=1)
    test = bt._rows_on(rows, [GRID[-1]])
    tier = np.array(test["byo__loyalty_tier"].to_pylist(), dtype=object)
    tier[:20] = "platinum"  # a level never seen in training
    test = test.set_column(test.schema.get_field_index("byo__loyalty_tier"), "byo__loyalty_tier", pa.array(tier))
    sql = probability_sql(model)
    assert sql_parity(model, sql, test) < 1e-12
    # stored and loaded, the model scores the same
    from empathy.predict.warehouse import load_churn

    stored = {
        "candidate": model.candidate,
        "model_text": model.margin_model.to_text(),
        "features": spec.to_json(),
        "calibration_a": model.calibration[0],
        "calibration_b": model.calibration[1],
        "hyperparameters": "{}",
        "n_train": 0,
        "n_calibration": 0,
        "train_positive_rate": 0.0,
    }
    np.testing.assert_array_equal(ch.churn_probability(load_churn(stored), test), ch.churn_probability(model, test))


@pytest.mark.parametrize("candidate", ["logistic_binned", "recency_baseline"])
def test_linear_contributions_add_up_to_the_probability(split, candidate):
    rows, train, cal, spec = split
    model = ch.fit_churn(
        train, bt._labels(train), cal, bt._labels(cal), spec=spec, params=ch.candidate_params(candidate)
    )
    test = bt._rows_on(rows, [GRID[-1]])
    groups, p, p0 = ch.churn_contributions(model, test)
    np.testing.assert_allclose(groups.sum(axis=1).to_numpy() / 100, p - p0, atol=1e-12)
    np.testing.assert_allclose(p, ch.churn_probability(model, test), atol=1e-12)


def test_binned_logistic_finds_a_curve():
    """Churn highest at middle values of a number: one weight per bin can say so, a straight line cannot."""
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 100, 20000)
    y = (rng.random(x.size) < np.where((x > 40) & (x < 60), 0.5, 0.05)).astype(float)
    X = pd.DataFrame({"x": x})
    model = cd.fit_binned_logistic(X, y, [])
    p = 1 / (1 + np.exp(-model.margin(X)))
    assert mt.binary_summary(y, p)["auc"] > 0.75
    assert model.margin(X.iloc[[0]].assign(x=50.0))[0] > model.margin(X.iloc[[0]].assign(x=5.0))[0] + 1.5


def test_bin_edges_are_distinct_and_ignore_missing():
    edges = cd.bin_edges(np.array([1.0, 1.0, 1.0, 2.0, 3.0, np.nan]), 10)
    assert edges == sorted(set(edges)) and all(e > 1.0 for e in edges)
    assert cd.bin_edges(np.array([np.nan, np.nan]), 10) == []


def test_rare_churners_keep_every_churner_and_sample_stayers():
    y = np.zeros(10000)
    y[:50] = 1
    ids = [f"C{i}" for i in range(len(y))]
    keep = cd.negatives_to_keep(ids, y, 20)
    assert keep[:50].all()
    assert 800 < (keep & (y == 0)).sum() < 1200
    np.testing.assert_array_equal(keep, cd.negatives_to_keep(list(reversed(ids))[::-1], y, 20))
    assert cd.negatives_to_keep(ids[:100], np.r_[np.ones(10), np.zeros(90)], 20).all()


def test_choice_is_the_lowest_log_loss_and_ties_go_to_the_simpler():
    assert sel.choose({"lightgbm": 0.30, "logistic_binned": 0.28, "recency_baseline": 0.35}) == "logistic_binned"
    assert sel.choose({"lightgbm": 0.3, "recency_baseline": 0.3}) == "recency_baseline"
    with pytest.raises(ch.NotEnoughHistory):
        sel.choose({})


def test_customer_split_is_by_hash_and_in_the_documented_shares():
    ids = [f"C{i:05d}" for i in range(20000)]
    part = sel.customer_part(ids)
    shares = {k: float((part == k).mean()) for k in ("train", "calibrate", "evaluate")}
    assert shares == pytest.approx({"train": 0.6, "calibrate": 0.2, "evaluate": 0.2}, abs=0.015)
    np.testing.assert_array_equal(sel.customer_part(ids[::-1])[::-1], part)


def test_customer_holdout_judges_every_candidate_on_customers_it_never_fitted():
    """One labelled snapshot date (churn seen only at the end of the data): no time split is possible."""
    rows = snapshots(3000, seed=5, dates=GRID[-1:])
    spec = ch.infer_spec(rows.drop_columns(["is_churned", "next_action"]))
    result = sel.holdout_evaluation(rows, spec, model_version="v", threads=1)
    frame = result.figures.to_pandas()
    assert set(frame.candidate) == set(cd.CANDIDATES) and set(frame.evaluation) == {"customer_holdout"}
    evaluated = int(frame[(frame.metric == "n") & (frame.section == "summary")].value.iloc[0])
    assert evaluated == result.parts["evaluation_rows"]
    assert result.parts["train_rows"] > 2 * evaluated
    # the judged model scores the evaluation customers as the figures say (nothing refitted after)
    test = rows.filter(pa.array(sel.customer_part(rows["customer_id"].to_pylist()) == "evaluate"))
    losses = sel.mean_log_loss(result.figures)
    chosen = sel.choose(losses)
    p = ch.churn_probability(result.models[chosen], test)
    assert mt.binary_summary(bt._labels(test), p)["log_loss"] == pytest.approx(losses[chosen])
    assert losses[chosen] <= losses["recency_baseline"]


def test_eval_models_under_a_customer_holdout_reports_every_candidate_and_no_next_action_figure():
    import duckdb

    from empathy.predict.evaluate import _backtest_rows

    con = duckdb.connect()
    con.execute(
        "create schema marts; create table marts.fct_model_backtests (model_version varchar, model_name varchar,"
        " candidate varchar, evaluation varchar, origin_date date, section varchar, metric varchar, value double)"
    )
    for i, candidate in enumerate(cd.CANDIDATES):
        for metric, value in (("n", 200.0), ("auc", 0.6 + i / 100), ("log_loss", 0.5 + i / 100), ("ece", 0.05)):
            con.execute(
                "insert into marts.fct_model_backtests values ('v1', 'churn', ?, 'customer_holdout',"
                " date '2026-08-27', 'summary', ?, ?)",
                [candidate, metric, value],
            )
    rows = _backtest_rows(con, "v1", "logistic_binned")
    auc = next(r for r in rows if r.metric == "auc")
    assert auc.section == "churn backtest, logistic_binned (mean)" and auc.value == pytest.approx(0.61)
    assert "lightgbm 0.600" in auc.reference and "recency_baseline 0.620" in auc.reference
    assert "customer_holdout" in auc.reference
    next_action = [r for r in rows if r.section.startswith("next action")]
    assert [(r.metric, r.value) for r in next_action] == [("not computed", None)]
