"""Pareto/NBD, the choice of purchase model on the calibration period's own last part, and holdout figures."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from empathy.predict import clv, pareto_nbd, purchase_model_choice
from empathy.predict.warehouse import _bg_models
from tests.conftest import SHARED_DATA

CDNOW = SHARED_DATA / "cdnow" / "CDNOW_sample.txt"
needs_cdnow = pytest.mark.skipif(not CDNOW.exists(), reason=f"CDNOW sample not found at {CDNOW}")


@pytest.fixture(scope="module")
def cdnow_report() -> dict:
    if not CDNOW.exists():
        pytest.skip(f"CDNOW sample not found at {CDNOW}")
    return clv.cdnow_report(CDNOW)


@needs_cdnow
def test_pareto_nbd_reproduces_published_cdnow_parameters(cdnow_report: dict) -> None:
    for row in cdnow_report["pareto_nbd"]["parameters"]:
        assert abs(row["relative_difference"]) < 0.005, row
    # Fader, Hardie & Lee (2005) report a log-likelihood of -9595.0 for the Pareto/NBD on these data.
    assert cdnow_report["pareto_nbd"]["log_likelihood"] == pytest.approx(-9595.0, abs=0.1)


@needs_cdnow
def test_cdnow_chosen_model_beats_bgnbd_and_naive_per_customer(cdnow_report: dict) -> None:
    chosen = cdnow_report["holdout"]
    assert chosen["mean_absolute_error"] < 0.785
    assert chosen["mean_absolute_error"] < cdnow_report["holdout_by_family"]["bgnbd"]["mean_absolute_error"]
    assert chosen["mean_absolute_error"] < chosen["naive_mean_absolute_error"]
    assert chosen["correlation"] > chosen["naive_correlation"]


@needs_cdnow
def test_cdnow_choice_follows_the_inner_holdout_rule(cdnow_report: dict) -> None:
    choice = cdnow_report["choice"]
    best = min(choice["candidates"], key=lambda c: c["inner_mae"])
    assert choice["family"] == best["family"]
    # The inner holdout is the last third of the 39-week calibration: 91 days, inside the calibration period.
    assert choice["inner_holdout_days"] == 91
    assert choice["inner_holdout_start"] == "1997-07-02"
    assert json.loads(json.dumps(cdnow_report)) == cdnow_report


@needs_cdnow
def test_cdnow_any_purchase_probability_beats_the_base_rate(cdnow_report: dict) -> None:
    for figures in cdnow_report["holdout_by_family"].values():
        any_purchase = figures["any_purchase"]
        assert any_purchase["brier"] < any_purchase["brier_base_rate"]
        assert sum(r["customers"] for r in any_purchase["reliability"]) == 2357
        observed = [r["observed"] for r in any_purchase["reliability"]]
        assert observed[-1] > observed[0]


@needs_cdnow
def test_choice_reads_only_calibration_data_and_is_deterministic() -> None:
    transactions = clv.load_cdnow(CDNOW)
    calibration = transactions[transactions["date"] <= "1997-09-30"]
    with_holdout = purchase_model_choice.choose_purchase_model(
        transactions, "customer_id", "date", "amount", "1997-09-30"
    )
    without = purchase_model_choice.choose_purchase_model(calibration, "customer_id", "date", "amount", "1997-09-30")
    assert with_holdout.as_dict() == without.as_dict()


def _simulate_pareto(n: int, seed: int, death_rate: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    lam = rng.gamma(0.8, 1 / 6.0, n)
    mu = rng.gamma(0.7, 1 / 12.0, n) if death_rate is None else np.full(n, death_rate)
    big_t = rng.uniform(20, 40, n)
    death = rng.exponential(1 / mu)
    x, tx = np.zeros(n), np.zeros(n)
    for i in range(n):
        end = min(death[i], big_t[i])
        times = np.cumsum(rng.exponential(1 / lam[i], 200))
        times = times[times < end]
        x[i], tx[i] = len(times), (times[-1] if len(times) else 0.0)
    return x, tx, big_t


def test_pareto_nbd_recovers_simulated_parameters() -> None:
    x, tx, big_t = _simulate_pareto(3000, 7)
    fitted = pareto_nbd.fit_pareto_nbd(x, tx, big_t)
    assert fitted.converged
    assert fitted.r == pytest.approx(0.8, rel=0.2)
    assert fitted.r / fitted.alpha == pytest.approx(0.8 / 6.0, rel=0.15)
    assert fitted.s / fitted.beta == pytest.approx(0.7 / 12.0, rel=0.5)


def test_pareto_nbd_fit_ends_in_bounded_calls_when_death_rates_do_not_vary(monkeypatch: pytest.MonkeyPatch) -> None:
    # One death rate for everyone: the likelihood is flat as s and beta grow together, and each call gets
    # slower there (uncapped, this fit drifts to s = 167 in 735 calls and 60 times the time). It stops at
    # the shape cap within its call budget, with both rates' means right.
    x, tx, big_t = _simulate_pareto(1500, 11, death_rate=0.03)
    calls = []
    row_loglik = pareto_nbd._row_loglik
    monkeypatch.setattr(pareto_nbd, "_row_loglik", lambda *a: calls.append(1) or row_loglik(*a))
    fitted = pareto_nbd.fit_pareto_nbd(x, tx, big_t)
    assert fitted.s == pytest.approx(pareto_nbd.MAX_SHAPE, rel=1e-6)
    assert len(calls) <= 2 * pareto_nbd.MAX_EVALUATIONS + 10
    assert np.isfinite(fitted.log_likelihood)
    assert fitted.r / fitted.alpha == pytest.approx(0.8 / 6.0, rel=0.15)
    assert fitted.s / fitted.beta == pytest.approx(0.03, rel=0.15)


@pytest.mark.parametrize(
    ("x", "tx", "big_t"),
    [pytest.param(0, 0.0, 30.0, id="one-time buyer"), pytest.param(3, 25.0, 30.0, id="recent repeat buyer")],
)
def test_pareto_nbd_expectations_match_monte_carlo(x: int, tx: float, big_t: float) -> None:
    params = pareto_nbd.ParetoNBDParams(r=0.55, alpha=10.6, s=0.6, beta=11.7)
    alive = float(pareto_nbd.pareto_nbd_prob_alive(params, [x], [tx], [big_t])[0])
    rng = np.random.default_rng(3)
    n = 200_000
    lam = rng.gamma(params.r + x, 1 / (params.alpha + big_t), n)
    mu = rng.gamma(params.s, 1 / (params.beta + big_t), n)
    life = np.minimum(rng.exponential(1 / mu), 39.0)
    is_alive = rng.uniform(size=n) < alive
    purchases = np.where(is_alive, rng.poisson(lam * life), 0)
    expected = params.conditional_expected_purchases(39.0, [x], [tx], [big_t])[0]
    any_purchase = params.prob_any_purchase(39.0, [x], [tx], [big_t])[0]
    assert expected == pytest.approx(purchases.mean(), rel=0.03)
    assert any_purchase == pytest.approx((purchases > 0).mean(), abs=0.005)


def test_bgnbd_any_purchase_is_below_prob_alive_and_grows_with_the_horizon() -> None:
    params = clv.BGNBDParams(r=0.24, alpha=4.4, a=0.79, b=2.4)
    short = params.prob_any_purchase(4.0, [2, 0], [20.0, 0.0], [30.0, 30.0])
    long = params.prob_any_purchase(52.0, [2, 0], [20.0, 0.0], [30.0, 30.0])
    assert (short < long).all()
    assert (long < params.prob_alive([2, 0], [20.0, 0.0], [30.0, 30.0])).all()


def test_inner_holdout_is_the_last_third_within_bounds() -> None:
    end = pd.Timestamp("2024-12-31")
    start, days = purchase_model_choice.inner_holdout_start(end - pd.Timedelta(days=300), end)
    assert days == 100 and start == end - pd.Timedelta(days=100)
    _, capped = purchase_model_choice.inner_holdout_start(end - pd.Timedelta(days=3000), end)
    assert capped == purchase_model_choice.MAX_INNER_HOLDOUT_DAYS
    with pytest.raises(ValueError, match="too short"):
        purchase_model_choice.inner_holdout_start(end - pd.Timedelta(days=20), end)


def test_warehouse_reads_the_family_and_old_versions_as_bgnbd() -> None:
    old = {"model_text": json.dumps({"r": 0.2, "alpha": 4.0, "a": 0.8, "b": 2.4, "p": 6.0, "q": 3.7, "v": 15.0})}
    model, _ = _bg_models(old)
    assert model.family == "bgnbd"
    new = {
        "model_text": json.dumps(
            {"family": "pareto_nbd", "r": 0.5, "alpha": 10.0, "s": 0.6, "beta": 11.0, "p": 6.0, "q": 3.7, "v": 15.0}
        )
    }
    model, _ = _bg_models(new)
    assert isinstance(model, pareto_nbd.ParetoNBDParams) and model.s == 0.6
