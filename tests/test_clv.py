"""Customer lifetime value: BG/NBD, Gamma-Gamma, subscription survival value and Shapley explanations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import special

from empathy.predict import clv
from tests.conftest import SHARED_DATA

CDNOW = SHARED_DATA / "cdnow" / "CDNOW_sample.txt"
needs_cdnow = pytest.mark.skipif(not CDNOW.exists(), reason=f"CDNOW sample not found at {CDNOW}")

CDNOW_LIKE = clv.BGNBDParams(r=0.243, alpha=4.414, a=0.793, b=2.426)


def simulate_bgnbd(
    r: float, alpha: float, a: float, b: float, T: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(frequency, recency) of customers observed for T periods under the BG/NBD model.

    Repeat purchases follow a Poisson process of rate lambda ~ Gamma(r, rate alpha); after each repeat purchase
    the customer leaves with probability p ~ Beta(a, b), so they make at most J ~ Geometric(p) of them. With
    N Poisson arrivals in [0, T] the customer makes x = min(N, J) purchases and the x-th arrival time is the x-th
    order statistic of N uniforms on [0, T], i.e. T * Beta(x, N - x + 1).
    """
    n = T.shape[0]
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    arrivals = rng.poisson(lam * T)
    x = np.minimum(arrivals, rng.geometric(p))
    tx = np.where(x > 0, T * rng.beta(np.maximum(x, 1), np.maximum(arrivals - x + 1, 1)), 0.0)
    return x, tx


# ---------------------------------------------------------------------------------------------------------------
# CDNOW: the published results
# ---------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cdnow_report() -> dict:
    if not CDNOW.exists():
        pytest.skip(f"CDNOW sample not found at {CDNOW}")
    return clv.cdnow_report(CDNOW)


@pytest.fixture(scope="module")
def cdnow_summary() -> pd.DataFrame:
    if not CDNOW.exists():
        pytest.skip(f"CDNOW sample not found at {CDNOW}")
    transactions = clv.load_cdnow(CDNOW)
    return clv.rfm_summary(
        transactions, "customer_id", "date", "amount", "1997-09-30", observation_end="1998-06-30", period_days=7.0
    )


@needs_cdnow
def test_load_cdnow_reads_every_transaction() -> None:
    frame = clv.load_cdnow(CDNOW)
    assert len(frame) == 6919
    assert frame["customer_id"].nunique() == 2357
    assert list(frame.columns) == ["customer_id", "date", "quantity", "amount"]
    assert pd.api.types.is_datetime64_any_dtype(frame["date"])
    assert frame["quantity"].dtype == np.int64 and frame["amount"].dtype == np.float64
    first = frame.iloc[0]
    assert (first["customer_id"], first["date"], first["quantity"], first["amount"]) == (
        "00004",
        pd.Timestamp("1997-01-01"),
        2,
        29.33,
    )
    assert frame["date"].min() == pd.Timestamp("1997-01-01") and frame["date"].max() == pd.Timestamp("1998-06-30")


def test_load_cdnow_missing_file_names_the_path(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="CDNOW sample not found"):
        clv.load_cdnow(tmp_path / "nope.txt")


@needs_cdnow
def test_cdnow_summary_matches_the_papers_data(cdnow_summary: pd.DataFrame) -> None:
    # 2,357 customers; 2,457 repeat purchase days in calibration; 946 customers with at least one.
    assert len(cdnow_summary) == 2357
    assert int(cdnow_summary["frequency"].sum()) == 2457
    assert int((cdnow_summary["frequency"] > 0).sum()) == 946
    # A customer whose first purchase is 1997-01-01 has T = 272 days = 38.86 weeks, as in the paper's data.
    assert cdnow_summary["T"].max() == pytest.approx(272 / 7)
    assert (cdnow_summary["duration_holdout"] == 39.0).all()


@needs_cdnow
def test_cdnow_bgnbd_reproduces_published_parameters(cdnow_report: dict) -> None:
    params = {row["parameter"]: row for row in cdnow_report["bgnbd"]["parameters"]}
    assert set(params) == {"r", "alpha", "a", "b"}
    for name, published in clv.PUBLISHED_BGNBD.items():
        assert params[name]["published"] == published
        assert params[name]["fitted"] == pytest.approx(published, rel=0.01), name
        assert abs(params[name]["relative_difference"]) < 0.01
    assert cdnow_report["bgnbd"]["converged"] is True
    # Published log-likelihood of the BG/NBD on these data: -9582.4.
    assert cdnow_report["bgnbd"]["log_likelihood"] == pytest.approx(-9582.4, abs=0.1)
    assert 0 < cdnow_report["bgnbd"]["fit_seconds"] < 10


@needs_cdnow
def test_cdnow_gamma_gamma_reproduces_published_parameters(cdnow_report: dict) -> None:
    # Convention that reproduces the paper: 39-week calibration, same-day transactions summed, monetary_value =
    # mean of the repeat purchase days (first purchase excluded), fitted on the 946 customers with frequency > 0.
    gg = {row["parameter"]: row["fitted"] for row in cdnow_report["gamma_gamma"]["parameters"]}
    for name, published in clv.PUBLISHED_GAMMA_GAMMA.items():
        assert gg[name] == pytest.approx(published, rel=0.02), name
    assert cdnow_report["gamma_gamma"]["customers"] == 946


@needs_cdnow
def test_cdnow_holdout_forecast(cdnow_report: dict, cdnow_summary: pd.DataFrame) -> None:
    holdout = cdnow_report["holdout_by_family"]["bgnbd"]
    # Actual repeat purchase days in the 39 holdout weeks, from the raw file.
    assert holdout["actual_total"] == 1882.0
    # The stationary model forecasts about 12% fewer purchases than were made in Oct 1997 - Jun 1998 (a period
    # that includes the Christmas season): measured -12.1%. The aggregate is within 15% and below actual.
    assert -0.15 < holdout["relative_difference"] < 0.0
    # The conditional forecasts must add up to the model's own aggregate forecast for this cohort:
    # sum over customers of E[X(T + 39)] - E[X(T)] for a new customer (equation 9 of the paper).
    params = clv.fit_bgnbd(cdnow_summary["frequency"], cdnow_summary["recency"], cdnow_summary["T"])
    T = cdnow_summary["T"].to_numpy()
    aggregate = (
        clv.bgnbd_expected_purchases_new_customer(params, T + 39) - clv.bgnbd_expected_purchases_new_customer(params, T)
    ).sum()
    assert holdout["predicted_total"] == pytest.approx(aggregate, rel=0.02)

    table = holdout["by_frequency"]
    assert [row["frequency"] for row in table] == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert sum(row["customers"] for row in table) == 2357
    predicted = [row["mean_predicted"] for row in table]
    actual = [row["mean_actual"] for row in table]
    assert all(np.diff(predicted[:5]) > 0) and all(np.diff(actual[:5]) > 0)
    assert predicted[0] == pytest.approx(actual[0], rel=0.1)
    assert 0 < holdout["mean_absolute_error"] < 1.0


@needs_cdnow
def test_cdnow_holdout_counts_under_each_definition(cdnow_report: dict, cdnow_summary: pd.DataFrame) -> None:
    # Oct 1997 - Jun 1998: 1,959 transaction rows, 1,882 purchase days (what the models forecast and the
    # holdout check compares with), 1,788 customer-calendar-weeks (the count of weekly period tools).
    counts = cdnow_report["data"]["holdout_counts"]
    assert counts == {"transactions": 1959, "purchase_days": 1882, "customer_weeks": 1788}
    assert counts["purchase_days"] == int(cdnow_summary["frequency_holdout"].sum())
    assert counts["purchase_days"] == cdnow_report["holdout"]["actual_total"]


@needs_cdnow
def test_eval_models_prints_the_holdout_counts(cdnow_report: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    from empathy.predict import evaluate

    monkeypatch.setattr(evaluate.cl, "cdnow_report", lambda path: cdnow_report)
    rows = [r for r in evaluate._cdnow_rows(CDNOW) if r.metric.startswith("holdout purchase days")]
    assert len(rows) == 1 and rows[0].value == 1882.0 and rows[0].n == 2357
    assert "1,959 transaction rows" in rows[0].reference and "1,788 customer-calendar-weeks" in rows[0].reference


@needs_cdnow
def test_cdnow_report_is_plain_json(cdnow_report: dict) -> None:
    import json

    assert json.loads(json.dumps(cdnow_report)) == cdnow_report


# ---------------------------------------------------------------------------------------------------------------
# RFM summary
# ---------------------------------------------------------------------------------------------------------------


def test_rfm_summary_counts_purchase_days_and_respects_the_calibration_end() -> None:
    tx = pd.DataFrame(
        {
            "cust": ["a", "a", "a", "a", "a", "b", "b", "c", "a"],
            "ts": pd.to_datetime(
                [
                    "2024-01-01 09:00",
                    "2024-01-01 17:00",  # same day as the first purchase: not a repeat
                    "2024-01-08 10:00",
                    "2024-01-08 11:00",  # same day: one repeat purchase of 30 + 10
                    "2024-01-29 12:00",  # on the calibration end: inside (inclusive)
                    "2024-01-15 08:00",
                    "2024-02-05 08:00",  # holdout
                    "2024-02-01 08:00",  # first purchase after calibration: left out
                    "2024-03-01 08:00",  # after observation end: ignored
                ]
            ),
            "amt": [5.0, 5.0, 30.0, 10.0, 20.0, 7.0, 9.0, 1.0, 100.0],
        }
    )
    out = clv.rfm_summary(tx, "cust", "ts", "amt", "2024-01-29", observation_end="2024-02-26", period_days=7.0)
    assert list(out.index) == ["a", "b"]
    a, b = out.loc["a"], out.loc["b"]
    assert a["frequency"] == 2 and a["recency"] == pytest.approx(4.0) and a["T"] == pytest.approx(4.0)
    assert a["monetary_value"] == pytest.approx((40.0 + 20.0) / 2)
    assert b["frequency"] == 0 and b["recency"] == 0 and b["T"] == pytest.approx(2.0) and b["monetary_value"] == 0
    assert a["frequency_holdout"] == 0 and b["frequency_holdout"] == 1
    assert (out["duration_holdout"] == 4.0).all()
    assert "frequency_holdout" not in clv.rfm_summary(tx, "cust", "ts", "amt", "2024-01-29").columns


def test_holdout_counts_rows_days_and_calendar_weeks() -> None:
    # Calibration ends on Sunday 2024-01-28; the holdout runs to Sunday 2024-02-25 (inclusive).
    tx = pd.DataFrame(
        {
            "cust": ["a", "a", "a", "a", "a", "a", "a", "b", "c"],
            "ts": pd.to_datetime(
                [
                    "2024-01-02 10:00",  # first purchase
                    "2024-01-28 18:00",  # on the calibration end: calibration, not holdout
                    "2024-01-29 09:00",  # Monday: two rows of one purchase day
                    "2024-01-29 16:00",
                    "2024-01-31 12:00",  # Wednesday of the same week: another day, the same week
                    "2024-02-25 23:00",  # Sunday, the observation end: inside
                    "2024-02-26 08:00",  # after the observation end: left out
                    "2024-02-01 08:00",  # b's first purchase is after the calibration end: left out
                    "2024-01-10 08:00",  # c buys nothing in the holdout
                ]
            ),
            "amt": [1.0] * 9,
        }
    )
    counts = clv.holdout_counts(tx, "cust", "ts", "2024-01-28", "2024-02-25")
    assert counts == {"transactions": 4, "purchase_days": 3, "customer_weeks": 2}
    summary = clv.rfm_summary(tx, "cust", "ts", "amt", "2024-01-28", observation_end="2024-02-25")
    assert counts["purchase_days"] == int(summary["frequency_holdout"].sum())
    with pytest.raises(ValueError, match="observation_end"):
        clv.holdout_counts(tx, "cust", "ts", "2024-01-28", "2024-01-28")
    with pytest.raises(ValueError, match="date_col='when'"):
        clv.holdout_counts(tx, "cust", "when", "2024-01-28", "2024-02-25")


def test_rfm_summary_rejects_bad_arguments() -> None:
    tx = pd.DataFrame({"cust": ["a"], "ts": pd.to_datetime(["2024-01-01"]), "amt": [1.0]})
    with pytest.raises(ValueError, match="amount_col='amount'"):
        clv.rfm_summary(tx, "cust", "ts", "amount", "2024-02-01")
    with pytest.raises(ValueError, match="observation_end"):
        clv.rfm_summary(tx, "cust", "ts", "amt", "2024-02-01", observation_end="2024-01-15")
    with pytest.raises(ValueError, match="period_days"):
        clv.rfm_summary(tx, "cust", "ts", "amt", "2024-02-01", period_days=0)


# ---------------------------------------------------------------------------------------------------------------
# BG/NBD
# ---------------------------------------------------------------------------------------------------------------


def test_bgnbd_recovers_simulated_parameters() -> None:
    truth = (0.5, 5.0, 0.8, 2.5)
    rng = np.random.default_rng(7)
    T = rng.uniform(30.0, 78.0, 5000)
    x, tx = simulate_bgnbd(*truth, T, rng)
    fitted = clv.fit_bgnbd(x, tx, T)
    assert fitted.converged and fitted.n == 5000
    estimate = np.log([fitted.r, fitted.alpha, fitted.a, fitted.b])

    # Tolerance: the asymptotic standard errors of the log-parameters, from the inverse of the observed
    # information (the Hessian of the negative log-likelihood at the estimate, by central differences).
    def nll(theta: np.ndarray) -> float:
        return -clv.bgnbd_log_likelihood(clv.BGNBDParams(*np.exp(theta)), x, tx, T)

    h, eye = 1e-4, np.eye(4) * 1e-4
    hessian = np.array(
        [
            [
                (
                    nll(estimate + eye[i] + eye[j])
                    - nll(estimate + eye[i] - eye[j])
                    - nll(estimate - eye[i] + eye[j])
                    + nll(estimate - eye[i] - eye[j])
                )
                / (4 * h * h)
                for j in range(4)
            ]
            for i in range(4)
        ]
    )
    se = np.sqrt(np.diag(np.linalg.inv(hessian)))
    assert (se < 0.2).all()  # 5,000 customers pin every parameter to within ~20% (1 SE)
    z = (estimate - np.log(truth)) / se
    assert (np.abs(z) < 4).all(), z
    # The estimate is a maximum: at least as likely as the true parameters.
    assert fitted.log_likelihood >= clv.bgnbd_log_likelihood(clv.BGNBDParams(*truth), x, tx, T)


def test_bgnbd_weights_equal_repeated_rows() -> None:
    x = np.array([0, 1, 2, 5, 0, 3])
    tx = np.array([0.0, 10.0, 20.0, 30.0, 0.0, 5.0])
    T = np.array([30.0, 35.0, 38.0, 39.0, 20.0, 36.0])
    counts = np.array([40, 12, 5, 2, 30, 3])
    weighted = clv.fit_bgnbd(x, tx, T, weights=counts)
    expanded = clv.fit_bgnbd(np.repeat(x, counts), np.repeat(tx, counts), np.repeat(T, counts))
    for name in ("r", "alpha", "a", "b"):
        assert getattr(weighted, name) == pytest.approx(getattr(expanded, name), rel=1e-4)
    assert weighted.log_likelihood == pytest.approx(expanded.log_likelihood, rel=1e-9)
    assert weighted.n == expanded.n == counts.sum()


def test_bgnbd_penalizer_shrinks_parameters() -> None:
    rng = np.random.default_rng(3)
    T = rng.uniform(20.0, 40.0, 800)
    x, tx = simulate_bgnbd(0.243, 4.414, 0.793, 2.426, T, rng)
    plain = clv.fit_bgnbd(x, tx, T)
    shrunk = clv.fit_bgnbd(x, tx, T, penalizer=0.01)
    assert np.sum(np.square([shrunk.r, shrunk.alpha, shrunk.a, shrunk.b])) < np.sum(
        np.square([plain.r, plain.alpha, plain.a, plain.b])
    )


def test_prob_alive_is_one_without_repeat_purchases_and_grows_with_recency() -> None:
    T = np.array([10.0, 39.0, 78.0])
    assert np.array_equal(clv.bgnbd_prob_alive(CDNOW_LIKE, np.zeros(3), np.zeros(3), T), np.ones(3))
    recency = np.linspace(0.5, 39.0, 40)
    alive = clv.bgnbd_prob_alive(CDNOW_LIKE, np.full(40, 3), recency, np.full(40, 39.0))
    assert (np.diff(alive) > 0).all()  # the longer since the last purchase, the less likely still active
    assert 0 < alive[0] < 0.2 and alive[-1] == pytest.approx(1 / (1 + 0.793 / (2.426 + 2)))


def test_conditional_expectation_matches_paper_form_and_new_customer_limit() -> None:
    # Equation 10 as printed (without Euler's transformation) agrees with the implementation.
    r, alpha, a, b = CDNOW_LIKE.r, CDNOW_LIKE.alpha, CDNOW_LIKE.a, CDNOW_LIKE.b
    x = np.array([0.0, 1.0, 2.0, 7.0, 20.0])
    tx = np.array([0.0, 5.0, 30.0, 35.0, 38.0])
    T = np.full(5, 38.86)
    t = 39.0
    z = t / (alpha + T + t)
    printed = (
        (a + b + x - 1)
        / (a - 1)
        * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * special.hyp2f1(r + x, b + x, a + b + x - 1, z))
        / (1 + (x > 0) * a / (b + x - 1) * ((alpha + T) / (alpha + tx)) ** (r + x))
    )
    ours = clv.bgnbd_conditional_expected_purchases(CDNOW_LIKE, t, x, tx, T)
    np.testing.assert_allclose(ours, printed, rtol=1e-9)
    assert (np.diff(ours) > 0).all()
    # A customer with no history (x = t_x = T = 0) is a new customer.
    new = clv.bgnbd_expected_purchases_new_customer(CDNOW_LIKE, [1.0, 39.0, 78.0])
    same = clv.bgnbd_conditional_expected_purchases(CDNOW_LIKE, [1.0, 39.0, 78.0], [0, 0, 0], [0, 0, 0], [0, 0, 0])
    np.testing.assert_allclose(new, same)
    # Equation 9 for small t: E[X(t)] ~ (r / alpha) t, as everyone is alive at first.
    assert clv.bgnbd_expected_purchases_new_customer(CDNOW_LIKE, 1e-4)[0] == pytest.approx(r / alpha * 1e-4, rel=1e-3)


def test_conditional_expectation_stays_finite_when_the_fit_sends_a_and_b_to_infinity() -> None:
    # A fit where no one seems to drop out can end at a, b ~ 1e6; equation 10's hyp2f1 overflows there.
    x, tx, T = np.array([0.0, 4.0, 2.0]), np.array([0.0, 3.86, 0.86]), np.array([3.71, 4.43, 2.57])

    def params(scale: float) -> clv.BGNBDParams:
        return clv.BGNBDParams(r=0.82, alpha=2.8, a=0.216 * scale, b=0.784 * scale)

    huge = clv.bgnbd_conditional_expected_purchases(params(3e6), 4.0, x, tx, T)
    assert np.isfinite(huge).all()
    # The fixed-drop-out limit agrees with equation 10 where scipy can still evaluate it...
    exact = clv.bgnbd_conditional_expected_purchases(params(1e3), 4.0, x, tx, T)
    np.testing.assert_allclose(huge, exact, rtol=3e-3)
    # ...and for a customer with no repeat purchase it is (1 - ((alpha+T) / (alpha+T+p t))^r) / p.
    p = 0.216
    assert huge[0] == pytest.approx((1 - ((2.8 + 3.71) / (2.8 + 3.71 + p * 4.0)) ** 0.82) / p, rel=1e-9)


@pytest.mark.parametrize(("x", "tx", "T"), [(0, 0.0, 30.0), (2, 20.0, 38.0), (6, 12.0, 39.0)])
def test_conditional_expectation_matches_monte_carlo(x: int, tx: float, T: float) -> None:
    """Simulate the model given a history: draw (lambda, p) from their posterior by importance sampling, whether
    the customer is still active, then their purchases in the next t periods (Poisson arrivals, leaving with
    probability p after each)."""
    r, alpha, a, b = CDNOW_LIKE.r, CDNOW_LIKE.alpha, CDNOW_LIKE.a, CDNOW_LIKE.b
    t, n = 39.0, 400_000
    rng = np.random.default_rng(11 + x)
    # Proposal for lambda: Gamma(r + x, rate alpha + t_x); p from its Beta(a, b) prior.
    lam = rng.gamma(r + x, 1.0 / (alpha + tx), n)
    p = rng.beta(a, b, n)
    log_prior_over_proposal = (
        (r - 1) * np.log(lam)
        - alpha * lam
        - ((r + x - 1) * np.log(lam) - (alpha + tx) * lam)
        + r * np.log(alpha)
        - special.gammaln(r)
        - ((r + x) * np.log(alpha + tx) - special.gammaln(r + x))
    )
    # Individual-level likelihood of the history (Fader, Hardie & Lee 2005, equation 3), split by state at T.
    log_alive = x * np.log1p(-p) + x * np.log(lam) - lam * T
    log_gone = np.log(p) + (x - 1) * np.log1p(-p) + x * np.log(lam) - lam * tx if x > 0 else np.full(n, -np.inf)
    log_w = log_prior_over_proposal + np.logaddexp(log_alive, log_gone)
    w = np.exp(log_w - log_w.max())
    alive = rng.random(n) < np.exp(log_alive - np.logaddexp(log_alive, log_gone))
    future = np.where(alive, np.minimum(rng.poisson(lam * t), rng.geometric(p)), 0)
    estimate = np.sum(w * future) / np.sum(w)
    se = np.sqrt(np.sum(w**2 * (future - estimate) ** 2)) / np.sum(w)
    exact = clv.bgnbd_conditional_expected_purchases(CDNOW_LIKE, t, [x], [tx], [T])[0]
    assert se < 0.03 * exact  # the simulation is precise enough to tell a wrong formula
    assert abs(estimate - exact) < 4 * se, (estimate, exact, se)
    # The same simulation's share of active customers is P(alive).
    alive_share = np.sum(w * alive) / np.sum(w)
    assert alive_share == pytest.approx(clv.bgnbd_prob_alive(CDNOW_LIKE, [x], [tx], [T])[0], abs=0.01)


@pytest.mark.parametrize(
    ("frequency", "recency", "T", "message"),
    [
        ([1, 2], [-1.0, 3.0], [10.0, 10.0], "recency must be >= 0"),
        ([1, 2], [12.0, 3.0], [10.0, 10.0], "recency must not exceed T"),
        ([1.5, 2], [2.0, 3.0], [10.0, 10.0], "frequency must hold whole"),
        ([-1, 2], [2.0, 3.0], [10.0, 10.0], "frequency must hold whole"),
        ([1, 2], [2.0, np.nan], [10.0, 10.0], "recency has 1 missing"),
        ([1, 2], [2.0, 3.0], [10.0], "T has 1 values but frequency has 2"),
    ],
)
def test_bgnbd_input_validation(frequency, recency, T, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        clv.fit_bgnbd(frequency, recency, T)
    with pytest.raises(ValueError, match=message):
        clv.bgnbd_prob_alive(CDNOW_LIKE, frequency, recency, T)
    with pytest.raises(ValueError, match=message):
        clv.bgnbd_conditional_expected_purchases(CDNOW_LIKE, 10.0, frequency, recency, T)


def test_bgnbd_params_must_be_positive() -> None:
    with pytest.raises(ValueError, match=r"BGNBDParams\.alpha"):
        clv.BGNBDParams(r=0.2, alpha=-1.0, a=0.8, b=2.0)
    with pytest.raises(ValueError, match="no customer has frequency > 0"):
        clv.fit_bgnbd([0, 0], [0.0, 0.0], [5.0, 6.0])


# ---------------------------------------------------------------------------------------------------------------
# Gamma-Gamma and non-contractual CLV
# ---------------------------------------------------------------------------------------------------------------

GG = clv.GammaGammaParams(p=6.25, q=3.74, v=15.44)


def test_gamma_gamma_recovers_simulated_parameters() -> None:
    rng = np.random.default_rng(5)
    p, q, v, n = 6.0, 4.0, 15.0, 3000
    x = rng.integers(1, 10, n)
    nu = rng.gamma(q, 1.0 / v, n)
    # The mean of x Gamma(p, rate nu) spends is Gamma(p x, rate nu x).
    m = rng.gamma(p * x, 1.0 / (nu * x))
    fitted = clv.fit_gamma_gamma(np.concatenate([x, [0, 0]]), np.concatenate([m, [0.0, 0.0]]))
    assert fitted.n == n  # customers without repeat purchases are left out
    assert fitted.p == pytest.approx(p, rel=0.15)
    assert fitted.q == pytest.approx(q, rel=0.15)
    assert fitted.v == pytest.approx(v, rel=0.2)
    assert fitted.log_likelihood >= clv.gamma_gamma_log_likelihood(clv.GammaGammaParams(p, q, v), x, m)


def test_gamma_gamma_expected_spend() -> None:
    spend = clv.gamma_gamma_expected_spend(GG, [0, 1, 50], [0.0, 100.0, 100.0])
    population = 6.25 * 15.44 / (3.74 - 1)
    assert spend[0] == pytest.approx(population)
    assert population < spend[1] < spend[2] < 100.0  # shrunk towards the population mean, less with more data
    assert spend[1] == pytest.approx(6.25 * (15.44 + 100.0) / (6.25 + 3.74 - 1))
    with pytest.raises(ValueError, match=r"q = 0\.9 <= 1"):
        clv.gamma_gamma_expected_spend(clv.GammaGammaParams(p=2.0, q=0.9, v=10.0), [1], [10.0])
    with pytest.raises(ValueError, match="monetary_value must be >= 0"):
        clv.gamma_gamma_expected_spend(GG, [1], [-5.0])
    with pytest.raises(ValueError, match="monetary_value must be > 0 when frequency > 0"):
        clv.fit_gamma_gamma([1, 2, 3], [10.0, 0.0, 12.0])


def test_clv_non_contractual_discounting() -> None:
    index = pd.Index(["u", "v", "w"], name="customer")
    x = pd.Series([0, 3, 10], index=index)
    tx, T, m = np.array([0.0, 20.0, 38.0]), np.array([39.0, 39.0, 39.0]), np.array([0.0, 40.0, 25.0])
    undiscounted = clv.clv_non_contractual(CDNOW_LIKE, GG, x, tx, T, m, 52, 7, annual_discount_rate=0.0)
    assert list(undiscounted.columns) == ["clv", "expected_purchases", "prob_alive", "expected_spend"]
    assert undiscounted.index.equals(index)
    expected_52 = clv.bgnbd_conditional_expected_purchases(CDNOW_LIKE, 52, x, tx, T)
    np.testing.assert_allclose(undiscounted["expected_purchases"], expected_52)
    np.testing.assert_allclose(undiscounted["clv"], expected_52 * clv.gamma_gamma_expected_spend(GG, x, m))

    # With discounting: 364 days in 30-day steps (12 of 30 days, the last of 4), checked step by step.
    discounted = clv.clv_non_contractual(CDNOW_LIKE, GG, x, tx, T, m, 52, 7, annual_discount_rate=0.10)
    ends = [30.0 * i for i in range(1, 13)] + [364.0]
    cumulative = [clv.bgnbd_conditional_expected_purchases(CDNOW_LIKE, d / 7, x, tx, T) for d in ends]
    increments = np.diff(np.vstack([np.zeros(3), *cumulative]), axis=0)
    by_hand = sum(inc / 1.10 ** (d / 365) for inc, d in zip(increments, ends, strict=True))
    np.testing.assert_allclose(discounted["clv"], by_hand * clv.gamma_gamma_expected_spend(GG, x, m))
    assert (discounted["clv"] < undiscounted["clv"]).all()
    np.testing.assert_allclose(discounted["prob_alive"], clv.bgnbd_prob_alive(CDNOW_LIKE, x, tx, T))


# ---------------------------------------------------------------------------------------------------------------
# Subscriptions
# ---------------------------------------------------------------------------------------------------------------


def test_kaplan_meier_matches_hand_computation_with_ties_and_censoring() -> None:
    durations = [3, 1, 2, 2, 3, 3, 4, 4, 5]
    observed = [1, 1, 1, 0, 1, 0, 1, 0, 0]
    table = clv.kaplan_meier(durations, observed)
    # t=1: 9 at risk, 1 end; t=2: 8 at risk, 1 end + 1 censored; t=3: 6 at risk, 2 ends + 1 censored;
    # t=4: 3 at risk, 1 end + 1 censored; t=5: 1 at risk, censored.
    assert table["time"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert table["at_risk"].tolist() == [9, 9, 8, 6, 3, 1]
    assert table["events"].tolist() == [0, 1, 1, 2, 1, 0]
    assert table["censored"].tolist() == [0, 0, 1, 1, 1, 1]
    expected = [1.0, 8 / 9, 8 / 9 * 7 / 8, 7 / 9 * 4 / 6, 14 / 27 * 2 / 3, 28 / 81]
    np.testing.assert_allclose(table["survival"], expected)
    with pytest.raises(ValueError, match="observed must hold booleans or 0/1"):
        clv.kaplan_meier([1, 2], [1, 2])


def test_subscription_value_with_certain_survival_is_the_discounted_annuity() -> None:
    table = clv.kaplan_meier([6, 12, 24], [False, False, False])
    assert (table["survival"] == 1.0).all()
    out = clv.subscription_expected_remaining_value(
        pd.Series([0.0, 5.5, 40.0], index=["a", "b", "c"]), [10.0, 20.0, 30.0], table, horizon_months=36
    )
    annuity = sum(1.10 ** (-k / 12) for k in range(1, 37))
    np.testing.assert_allclose(out["expected_remaining_value"], [10 * annuity, 20 * annuity, 30 * annuity])
    np.testing.assert_allclose(out["expected_remaining_months"], 36.0)
    assert list(out.index) == ["a", "b", "c"]


def test_subscription_value_is_monotone_in_relative_risk() -> None:
    rng = np.random.default_rng(2)
    ends = rng.exponential(20.0, 500)
    follow_up = rng.uniform(6.0, 48.0, 500)
    table = clv.kaplan_meier(np.minimum(ends, follow_up), ends <= follow_up)
    risks = np.array([0.25, 0.5, 1.0, 2.0, 4.0])
    out = clv.subscription_expected_remaining_value(np.full(5, 10.0), 15.0, table, relative_risk=risks)
    assert (np.diff(out["expected_remaining_value"]) < 0).all()
    assert (np.diff(out["expected_remaining_months"]) < 0).all()
    default = clv.subscription_expected_remaining_value([10.0], 15.0, table)
    assert default["expected_remaining_value"].iloc[0] == pytest.approx(out["expected_remaining_value"].iloc[2])


def test_subscription_survival_is_conditional_and_extended_with_the_recent_hazard() -> None:
    months = np.arange(0, 25, dtype=float)
    table = pd.DataFrame({"time": months, "survival": 0.9**months})
    # Inside the curve: S(a + k) / S(a); beyond month 24: the same 10% monthly loss (the last 12 months' hazard).
    out = clv.subscription_expected_remaining_value([4.0, 20.0, 30.0], 1.0, table, horizon_months=12)
    geometric = sum(0.9**k for k in range(1, 13))
    np.testing.assert_allclose(out["expected_remaining_months"], geometric)
    # Only the last 12 months count: a curve whose hazard rose late is extended with the late hazard.
    late = pd.DataFrame({"time": months, "survival": np.where(months <= 12, 1.0, 0.8 ** (months - 12))})
    beyond = clv.subscription_expected_remaining_value([24.0], 1.0, late, horizon_months=6, annual_discount_rate=0)
    assert beyond["expected_remaining_value"].iloc[0] == pytest.approx(sum(0.8**k for k in range(1, 7)))
    # A curve shorter than 12 months is extended with its whole-curve hazard.
    short = pd.DataFrame({"time": [0.0, 6.0], "survival": [1.0, 0.5]})
    tail = clv.subscription_expected_remaining_value([6.0], 1.0, short, horizon_months=6, annual_discount_rate=0)
    assert tail["expected_remaining_months"].iloc[0] == pytest.approx(sum(0.5 ** (k / 6) for k in range(1, 7)))


def test_subscription_input_validation() -> None:
    table = clv.kaplan_meier([1, 2, 3], [1, 1, 0])
    with pytest.raises(ValueError, match="relative_risk must be > 0"):
        clv.subscription_expected_remaining_value([1.0], 10.0, table, relative_risk=[0.0])
    with pytest.raises(ValueError, match="tenure_months must be >= 0"):
        clv.subscription_expected_remaining_value([-1.0], 10.0, table)
    with pytest.raises(ValueError, match="survival_table needs a 'survival' column"):
        clv.subscription_expected_remaining_value([1.0], 10.0, table.drop(columns="survival"))


# ---------------------------------------------------------------------------------------------------------------
# Shapley explanations
# ---------------------------------------------------------------------------------------------------------------


def test_shapley_of_a_linear_function_is_coefficient_times_difference() -> None:
    rng = np.random.default_rng(4)
    X = pd.DataFrame(rng.normal(size=(50, 4)), columns=["a", "b", "c", "d"])
    coef = pd.Series({"a": 2.0, "b": -1.0, "c": 0.5, "d": 3.0})
    baseline = pd.Series({"a": 0.1, "b": 0.2, "c": -0.3, "d": 1.0})
    phi = clv.clv_shapley(lambda f: f.to_numpy() @ coef.to_numpy() + 7.0, X, baseline)
    np.testing.assert_allclose(phi.to_numpy(), (X - baseline).to_numpy() * coef.to_numpy())
    assert phi.attrs["baseline_value"] == pytest.approx(float(baseline @ coef) + 7.0)


def test_shapley_efficiency_and_symmetry() -> None:
    rng = np.random.default_rng(6)
    X = pd.DataFrame(rng.uniform(0.5, 2.0, size=(40, 3)), columns=["u", "v", "w"])
    X["v"] = X["u"]  # two identical inputs that enter the function symmetrically

    def value(f: pd.DataFrame) -> np.ndarray:
        return f["u"] * f["v"] * np.exp(f["w"]) + np.sin(f["u"] + f["v"])

    baseline = pd.Series({"u": 1.0, "v": 1.0, "w": 0.0})
    phi = clv.clv_shapley(value, X, baseline)
    base_value = value(pd.DataFrame([baseline])).iloc[0]
    np.testing.assert_allclose(phi.sum(axis=1), value(X) - base_value, atol=1e-12)
    np.testing.assert_allclose(phi["u"], phi["v"], atol=1e-12)


@needs_cdnow
def test_shapley_explains_cdnow_clv(cdnow_summary: pd.DataFrame) -> None:
    columns = ["frequency", "recency", "T", "monetary_value"]
    bgnbd = clv.fit_bgnbd(cdnow_summary["frequency"], cdnow_summary["recency"], cdnow_summary["T"])
    gg = clv.fit_gamma_gamma(cdnow_summary["frequency"], cdnow_summary["monetary_value"])
    value_fn = clv.clv_value_fn(bgnbd, gg, horizon_periods=52, period_days=7)
    X = cdnow_summary[columns].iloc[:300]
    baseline = X.iloc[1]  # a real customer with one repeat purchase
    phi = clv.clv_shapley(value_fn, X, baseline)
    np.testing.assert_allclose(phi.sum(axis=1), value_fn(X) - value_fn(baseline.to_frame().T), rtol=1e-9, atol=1e-9)
    # The contribution of spend has the sign of the customer's spend difference (value is increasing in it).
    diff = (X["monetary_value"] - baseline["monetary_value"]).to_numpy()
    repeat = X["frequency"].to_numpy() > 0
    assert (
        np.sign(phi["monetary_value"].to_numpy()[repeat & (np.abs(diff) > 1)])
        == np.sign(diff)[repeat & (np.abs(diff) > 1)]
    ).all()


def test_shapley_rejects_too_many_columns_and_missing_baseline() -> None:
    X = pd.DataFrame(np.ones((2, 7)), columns=list("abcdefg"))
    with pytest.raises(ValueError, match="X has 7 columns"):
        clv.clv_shapley(lambda f: f.sum(axis=1), X, X.iloc[0])
    with pytest.raises(ValueError, match=r"baseline has no value for \['b'\]"):
        clv.clv_shapley(lambda f: f.sum(axis=1), X[["a", "b"]], pd.Series({"a": 0.0}))
    with pytest.raises(ValueError, match="value_fn returned 1 values for 2 rows"):
        clv.clv_shapley(lambda f: [1.0], X[["a"]], pd.Series({"a": 0.0}))
