"""Customer lifetime value: what a customer is expected to buy or pay from now on, and why.

Two kinds of customer relationship, two models:

* **Non-contractual** (a shop: customers can leave without saying so). The BG/NBD model (Fader, Hardie & Lee
  2005, "Counting your customers the easy way") predicts the number of future purchases from each customer's
  repeat-purchase history ``(frequency, recency, T)``; the Gamma-Gamma model (Fader & Hardie 2013, "The
  Gamma-Gamma model of monetary value") predicts the amount spent per purchase from the mean of the repeat
  purchases. ``clv_non_contractual`` combines them into a discounted value over a horizon.
* **Contractual** (a subscription: the end is observed). ``kaplan_meier`` estimates the survival curve of
  subscriptions and ``subscription_expected_remaining_value`` turns it into the expected discounted value of a
  customer's remaining payments, given how long they have already stayed.

``clv_shapley`` explains any of these values by exact Shapley contributions of its inputs, and ``cdnow_report``
checks the BG/NBD and Gamma-Gamma fits against the published results on the CDNOW sample (2,357 customers of a
music retailer, 1997-1998), the data both papers use.

Data convention (that of the papers and of the ``lifetimes`` package): transactions are first aggregated per
customer and calendar day (amounts summed), so several transactions on one day are one purchase. ``frequency``
is the number of purchase days after the first one within the calibration period, ``recency`` the time from
the first to the last purchase day and ``T`` the time from the first purchase day to the end of calibration
(inclusive), both as whole days divided by ``period_days`` (7: times in weeks). ``monetary_value`` is the mean
amount of the repeat purchase days, 0 when there are none.

Every function takes array-likes (NumPy arrays, pandas Series, Arrow-backed columns) and works on all customers
at once; results keep the pandas index of the ``frequency`` (or ``tenure_months``) argument when it has one.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import optimize, special

__all__ = [
    "BGNBDParams",
    "GammaGammaParams",
    "bgnbd_conditional_expected_purchases",
    "bgnbd_expected_purchases_new_customer",
    "bgnbd_log_likelihood",
    "bgnbd_prob_alive",
    "bgnbd_prob_any_purchase",
    "cdnow_report",
    "clv_non_contractual",
    "clv_shapley",
    "clv_value_fn",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "gamma_gamma_expected_spend",
    "gamma_gamma_log_likelihood",
    "holdout_counts",
    "kaplan_meier",
    "load_cdnow",
    "rfm_summary",
    "subscription_expected_remaining_value",
]

# Published estimates on the CDNOW sample, 39-week calibration period (weeks as the time unit):
# BG/NBD in Fader, Hardie & Lee (2005), Gamma-Gamma in Fader & Hardie (2013).
PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "v": 15.44}
CDNOW_CALIBRATION_END = "1997-09-30"
CDNOW_OBSERVATION_END = "1998-06-30"
CDNOW_FILE = Path("cdnow") / "CDNOW_sample.txt"

MAX_SHAPLEY_COLUMNS = 6
# Months of the survival curve whose average hazard extends it beyond the last observed time.
TAIL_HAZARD_MONTHS = 12.0


# --------------------------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------------------------


def _default_cdnow_path() -> Path:
    """CDNOW_sample.txt in the shared data folder: $EMPATHY_SHARED_DATA, else ../shared/data of the project."""
    env = os.environ.get("EMPATHY_SHARED_DATA")
    if env:
        return Path(env) / CDNOW_FILE
    from empathy.config import find_project_dir

    return find_project_dir().parent / "shared" / "data" / CDNOW_FILE


def load_cdnow(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read the CDNOW sample (whitespace-separated: customer id, customer index, yyyymmdd, quantity, amount).

    Returns one row per transaction with columns ``customer_id`` (str, as in the file, leading zeros kept),
    ``date`` (datetime64), ``quantity`` (int) and ``amount`` (float, US dollars).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"CDNOW sample not found at {path}: pass the path of CDNOW_sample.txt "
            "(the project keeps it in ../shared/data/cdnow/)"
        )
    raw = pd.read_csv(
        path,
        sep=r"\s+",
        header=None,
        names=["customer_id", "customer_index", "date", "quantity", "amount"],
        dtype={"customer_id": str, "customer_index": str, "date": str, "quantity": np.int64, "amount": np.float64},
    )
    return pd.DataFrame(
        {
            "customer_id": raw["customer_id"].astype(str),
            "date": pd.to_datetime(raw["date"], format="%Y%m%d"),
            "quantity": raw["quantity"].astype(np.int64),
            "amount": raw["amount"].astype(np.float64),
        }
    )


def _day(value: Any, name: str) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a date such as '1997-09-30' (got {value!r})") from exc
    if pd.isna(stamp):
        raise ValueError(f"{name} must be a date such as '1997-09-30' (got {value!r})")
    return stamp.tz_localize(None).normalize() if stamp.tzinfo is not None else stamp.normalize()


def rfm_summary(
    transactions: pd.DataFrame,
    customer_col: str,
    date_col: str,
    amount_col: str,
    calibration_end: Any,
    observation_end: Any = None,
    period_days: float = 7.0,
) -> pd.DataFrame:
    """Per-customer repeat-purchase summary (``frequency, recency, T, monetary_value``) for BG/NBD and Gamma-Gamma.

    Transactions are aggregated per customer and calendar day first (amounts summed): the models count purchase
    occasions, and a basket split into several lines or orders on one day is one occasion. Only customers whose
    first purchase is on or before ``calibration_end`` (inclusive) are returned.

    * ``frequency``: purchase days after the first one, up to ``calibration_end``;
    * ``recency``: days from the first to the last of those purchase days / ``period_days`` (0 when frequency 0);
    * ``T``: days from the first purchase day to ``calibration_end`` / ``period_days``;
    * ``monetary_value``: mean amount of the repeat purchase days (the first purchase is left out, as in the
      Gamma-Gamma paper, because it is often unlike the later ones), 0 when frequency is 0;
    * with ``observation_end``: ``frequency_holdout``, purchase days in ``(calibration_end, observation_end]``,
      ``amount_holdout``, the amount spent in them, and ``duration_holdout``, the length of that holdout period
      in periods.
    """
    for arg, col in (("customer_col", customer_col), ("date_col", date_col), ("amount_col", amount_col)):
        if col not in transactions.columns:
            raise ValueError(
                f"{arg}={col!r} is not a column of transactions (columns: {list(transactions.columns)}); "
                "pass the name of the column that holds it"
            )
    if not (np.isfinite(period_days) and period_days > 0):
        raise ValueError(f"period_days must be a positive number of days (got {period_days!r}); use 7 for weeks")
    cal_end = _day(calibration_end, "calibration_end")
    obs_end = None if observation_end is None else _day(observation_end, "observation_end")
    if obs_end is not None and obs_end <= cal_end:
        raise ValueError(
            f"observation_end ({obs_end.date()}) must be after calibration_end ({cal_end.date()}); "
            "pass None to skip the holdout columns"
        )

    dates = pd.to_datetime(transactions[date_col], errors="coerce")
    if dates.isna().any():
        raise ValueError(f"date_col {date_col!r} has {int(dates.isna().sum())} missing or unparseable dates")
    if dates.dt.tz is not None:
        dates = dates.dt.tz_localize(None)
    amounts = pd.to_numeric(transactions[amount_col], errors="coerce").astype(np.float64)
    if amounts.isna().any():
        raise ValueError(f"amount_col {amount_col!r} has {int(amounts.isna().sum())} missing or non-numeric values")
    customers = transactions[customer_col]
    if customers.isna().any():
        raise ValueError(f"customer_col {customer_col!r} has {int(customers.isna().sum())} missing customer ids")

    daily = (
        pd.DataFrame({"customer": customers.to_numpy(), "day": dates.dt.normalize().to_numpy(), "amount": amounts})
        .groupby(["customer", "day"], sort=True, as_index=False)["amount"]
        .sum()
    )
    first_day = daily.groupby("customer", sort=True)["day"].transform("min")
    daily = daily[first_day <= cal_end].assign(first_day=first_day[first_day <= cal_end])
    one_day = pd.Timedelta(days=1)

    cal = daily[daily["day"] <= cal_end]
    is_repeat = cal["day"] > cal["first_day"]
    grouped = cal.assign(repeat=is_repeat.astype(np.int64), repeat_amount=cal["amount"].where(is_repeat, 0.0)).groupby(
        "customer", sort=True
    )
    out = pd.DataFrame(
        {
            "frequency": grouped["repeat"].sum().astype(np.int64),
            "first_day": grouped["first_day"].first(),
            "last_day": grouped["day"].max(),
            "repeat_amount": grouped["repeat_amount"].sum(),
        }
    )
    out.index.name = customer_col
    out["recency"] = ((out["last_day"] - out["first_day"]) / one_day) / period_days
    out["T"] = ((cal_end - out["first_day"]) / one_day) / period_days
    freq = out["frequency"].to_numpy()
    out["monetary_value"] = np.where(freq > 0, out["repeat_amount"].to_numpy() / np.maximum(freq, 1), 0.0)
    out = out[["frequency", "recency", "T", "monetary_value"]]

    if obs_end is not None:
        hold = daily[(daily["day"] > cal_end) & (daily["day"] <= obs_end)]
        counts = hold.groupby("customer", sort=True).size()
        out["frequency_holdout"] = counts.reindex(out.index, fill_value=0).astype(np.int64)
        out["amount_holdout"] = hold.groupby("customer", sort=True)["amount"].sum().reindex(out.index, fill_value=0.0)
        out["duration_holdout"] = ((obs_end - cal_end) / one_day) / period_days
    return out


def holdout_counts(
    transactions: pd.DataFrame, customer_col: str, date_col: str, calibration_end: Any, observation_end: Any
) -> dict[str, int]:
    """Purchases in ``(calibration_end, observation_end]`` under the three counts seen in the literature.

    Only customers whose first purchase is on or before ``calibration_end`` count, as in ``rfm_summary``.

    * ``transactions``: rows of the transaction table (a basket split into several lines counts several times);
    * ``purchase_days``: distinct customer-days, the product's count (``rfm_summary``'s ``frequency_holdout``);
    * ``customer_weeks``: distinct customer-calendar-weeks, Monday to Sunday (what weekly period tools such as
      ``lifetimes`` with ``freq="W"`` count): two purchase days of one week count once.

    The models forecast ``purchase_days``; the other two are there to compare with figures published under
    another count.
    """
    for arg, col in (("customer_col", customer_col), ("date_col", date_col)):
        if col not in transactions.columns:
            raise ValueError(f"{arg}={col!r} is not a column of transactions (columns: {list(transactions.columns)})")
    cal_end = _day(calibration_end, "calibration_end")
    obs_end = _day(observation_end, "observation_end")
    if obs_end <= cal_end:
        raise ValueError(f"observation_end ({obs_end.date()}) must be after calibration_end ({cal_end.date()})")
    dates = pd.to_datetime(transactions[date_col], errors="coerce")
    if dates.isna().any():
        raise ValueError(f"date_col {date_col!r} has {int(dates.isna().sum())} missing or unparseable dates")
    if dates.dt.tz is not None:
        dates = dates.dt.tz_localize(None)
    frame = pd.DataFrame({"customer": transactions[customer_col].to_numpy(), "day": dates.dt.normalize().to_numpy()})
    first_day = frame.groupby("customer")["day"].transform("min")
    hold = frame[(first_day <= cal_end) & (frame["day"] > cal_end) & (frame["day"] <= obs_end)]
    week = hold["day"].dt.to_period("W")
    return {
        "transactions": len(hold),
        "purchase_days": len(hold.drop_duplicates(["customer", "day"])),
        "customer_weeks": len(hold.assign(week=week).drop_duplicates(["customer", "week"])),
    }


# --------------------------------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------------------------------


def _index_of(values: ArrayLike) -> pd.Index | None:
    return values.index if isinstance(values, (pd.Series, pd.DataFrame)) else None


def _vector(name: str, values: ArrayLike, n: int | None = None) -> np.ndarray:
    """1-D float array of `values`, finite, of length `n` when given (scalars are broadcast to `n`)."""
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric (got {type(values).__name__})") from exc
    if arr.ndim == 0 and n is not None:
        arr = np.full(n, float(arr))
    arr = np.atleast_1d(arr)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, one value per customer (got shape {arr.shape})")
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"{name} has {arr.shape[0]} values but frequency has {n}; pass one value per customer")
    bad = ~np.isfinite(arr)
    if bad.any():
        raise ValueError(f"{name} has {int(bad.sum())} missing or infinite values; drop or fill those customers")
    return arr


def _rfm_arrays(frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validated (frequency, recency, T) float arrays of one length.

    Recency is only read when frequency > 0 (a customer with no repeat purchase has t_x = 0 by definition).
    """
    x = _vector("frequency", frequency)
    n = x.shape[0]
    tx = _vector("recency", recency, n)
    big_t = _vector("T", T, n)
    if (x < 0).any() or (x != np.round(x)).any():
        bad = int(((x < 0) | (x != np.round(x))).sum())
        raise ValueError(
            f"frequency must hold whole, non-negative numbers of repeat purchases ({bad} values are not); "
            "count distinct repeat purchase days, e.g. with rfm_summary"
        )
    if (tx < 0).any():
        raise ValueError(
            f"recency must be >= 0 ({int((tx < 0).sum())} values are negative); it is the time from the first "
            "to the last purchase"
        )
    if (big_t < 0).any():
        raise ValueError(
            f"T must be >= 0 ({int((big_t < 0).sum())} values are negative); it is the time from the first "
            "purchase to the end of the calibration period"
        )
    too_late = tx > big_t * (1 + 1e-12) + 1e-12
    if too_late.any():
        raise ValueError(
            f"recency must not exceed T ({int(too_late.sum())} customers have recency > T); both must be measured "
            "from the first purchase, recency to the last purchase and T to the end of calibration"
        )
    return x, tx, big_t


# The most objective calls one optimiser step may make (L-BFGS-B's finite differences count): a fit that
# has not converged by then is flat along a ridge, where more calls only buy digits nobody uses.
MAX_FIT_EVALUATIONS = 3000


def _fit_log_params(
    objective: Callable[[np.ndarray], float],
    start: np.ndarray,
    bounds: list[tuple[float | None, float | None]] | None = None,
    max_evaluations: int = MAX_FIT_EVALUATIONS,
) -> tuple[np.ndarray, bool]:
    """Minimise `objective` over log-parameters: L-BFGS-B, then a Nelder-Mead polish from its point.

    Non-finite objective values count as 1e300. `bounds` (on the log-parameters, None for no bound) hold
    both steps inside a box; `max_evaluations` caps the objective calls of each step, so a likelihood that
    is flat along a ridge (a shape parameter running off to infinity) ends in bounded time. Returns the
    best log-parameters and whether either step reported success.
    """

    def safe(log_params: np.ndarray) -> float:
        value = objective(log_params)
        return value if math.isfinite(value) else 1e300

    result = optimize.minimize(
        safe,
        start,
        method="L-BFGS-B",
        bounds=bounds,
        # L-BFGS-B counts a value with its finite-difference gradient as one evaluation: len(start) + 1 calls.
        options={"maxiter": 2000, "maxfun": max(1, max_evaluations // (len(start) + 1)), "ftol": 1e-14, "gtol": 1e-9},
    )
    if bounds is not None and _on_a_bound(result.x, bounds):
        # At a bound the likelihood is flat along the ridge behind it: a polish buys no digit worth its calls.
        return result.x, bool(result.success)
    # The polish removes the finite-difference gradient's last imprecision.
    polished = optimize.minimize(
        safe,
        result.x,
        method="Nelder-Mead",
        bounds=bounds,
        options={"xatol": 1e-9, "fatol": 1e-14, "maxiter": 4000, "maxfev": max_evaluations},
    )
    best = polished if polished.fun <= result.fun else result
    return best.x, bool(result.success or polished.success)


def _on_a_bound(x: np.ndarray, bounds: list[tuple[float | None, float | None]]) -> bool:
    """Whether any coordinate of `x` sits (within 1e-6) on its lower or upper bound."""
    return any(
        (low is not None and value <= low + 1e-6) or (high is not None and value >= high - 1e-6)
        for value, (low, high) in zip(x, bounds, strict=True)
    )


def _positive(name: str, value: float) -> float:
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number (got {value!r})")
    return value


# --------------------------------------------------------------------------------------------------------------
# BG/NBD
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BGNBDParams:
    """Fitted BG/NBD parameters: purchase rates ~ Gamma(shape r, rate alpha), drop-out p ~ Beta(a, b).

    ``alpha`` is in the time unit of the data it was fitted on (periods of ``period_days``).
    ``log_likelihood`` is the total (weighted) log-likelihood at the estimate, ``n`` the number of customers
    (sum of weights) and ``converged`` whether the optimiser reported success.
    """

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float = float("nan")
    n: float = 0.0
    converged: bool = True

    family = "bgnbd"

    def __post_init__(self) -> None:
        for name in ("r", "alpha", "a", "b"):
            _positive(f"BGNBDParams.{name}", getattr(self, name))

    def to_dict(self) -> dict[str, float]:
        return {"r": self.r, "alpha": self.alpha, "a": self.a, "b": self.b}

    def prob_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> np.ndarray:
        return bgnbd_prob_alive(self, frequency, recency, T)

    def conditional_expected_purchases(
        self, t: float | ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> np.ndarray:
        return bgnbd_conditional_expected_purchases(self, t, frequency, recency, T)

    def prob_any_purchase(self, t: float, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> np.ndarray:
        return bgnbd_prob_any_purchase(self, t, frequency, recency, T)


def _bgnbd_row_loglik(
    r: float, alpha: float, a: float, b: float, x: np.ndarray, tx: np.ndarray, big_t: np.ndarray
) -> np.ndarray:
    """Log of equation 6 of Fader, Hardie & Lee (2005) per customer, in log space throughout."""
    common = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    beta_ab = special.betaln(a, b)
    alive = special.betaln(a, b + x) - beta_ab - (r + x) * np.log(alpha + big_t)
    repeat = x > 0
    x_safe = np.where(repeat, x, 1.0)
    dropped = special.betaln(a + 1, b + x_safe - 1) - beta_ab - (r + x_safe) * np.log(alpha + tx)
    return common + np.logaddexp(alive, np.where(repeat, dropped, -np.inf))


def bgnbd_log_likelihood(
    params: BGNBDParams, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike, weights: ArrayLike | None = None
) -> float:
    """Total BG/NBD log-likelihood of the data at `params` (each customer counted `weights` times)."""
    x, tx, big_t = _rfm_arrays(frequency, recency, T)
    w = np.ones_like(x) if weights is None else _vector("weights", weights, x.shape[0])
    return float(np.sum(w * _bgnbd_row_loglik(params.r, params.alpha, params.a, params.b, x, tx, big_t)))


def _compress(
    x: np.ndarray, tx: np.ndarray, big_t: np.ndarray, w: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Unique (x, t_x, T) rows with summed weights: the likelihood only depends on these, and many repeat."""
    rows, inverse = np.unique(np.column_stack([x, np.where(x > 0, tx, 0.0), big_t]), axis=0, return_inverse=True)
    counts = np.bincount(inverse.ravel(), weights=w, minlength=rows.shape[0])
    keep = counts > 0
    return rows[keep, 0], rows[keep, 1], rows[keep, 2], counts[keep]


def fit_bgnbd(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None = None,
    penalizer: float = 0.0,
) -> BGNBDParams:
    """Maximum-likelihood BG/NBD fit (Fader, Hardie & Lee 2005).

    Minimises the mean negative log-likelihood over log-parameters (so they stay positive) with L-BFGS-B, plus
    ``penalizer * (r^2 + alpha^2 + a^2 + b^2)`` as in ``lifetimes`` (0: plain maximum likelihood; a small value
    such as 0.001 keeps a and b finite on data with almost no drop-out information). ``weights`` are customer
    counts, so a table of unique ``(frequency, recency, T)`` rows with their counts gives the same fit as the
    customers themselves; identical rows are merged internally either way.
    """
    x, tx, big_t = _rfm_arrays(frequency, recency, T)
    if x.shape[0] == 0:
        raise ValueError("frequency is empty: fit_bgnbd needs at least one customer")
    w = np.ones_like(x) if weights is None else _vector("weights", weights, x.shape[0])
    if (w < 0).any() or w.sum() <= 0:
        raise ValueError("weights must be >= 0 with a positive sum (they are customer counts)")
    if not (math.isfinite(penalizer) and penalizer >= 0):
        raise ValueError(f"penalizer must be a finite number >= 0 (got {penalizer!r})")
    if not (x > 0).any():
        raise ValueError("no customer has frequency > 0: the BG/NBD needs repeat purchases to estimate anything")
    x, tx, big_t, w = _compress(x, tx, big_t, w)
    total = w.sum()

    def objective(log_params: np.ndarray) -> float:
        params = np.exp(log_params)
        ll = _bgnbd_row_loglik(*params, x, tx, big_t)
        return -float(np.dot(w, ll)) / total + penalizer * float(np.sum(params**2))

    # Start from the rate of a Poisson process with no drop-out: lambda ~ x / T, so alpha ~ r * T / x with r = 1.
    rate = max(float(np.dot(w, x)) / max(float(np.dot(w, big_t)), 1e-12), 1e-6)
    best, converged = _fit_log_params(objective, np.log([1.0, 1.0 / rate, 1.0, 1.0]))
    r, alpha, a, b = (float(v) for v in np.exp(best))
    return BGNBDParams(
        r=r,
        alpha=alpha,
        a=a,
        b=b,
        log_likelihood=float(np.dot(w, _bgnbd_row_loglik(r, alpha, a, b, x, tx, big_t))),
        n=float(total),
        converged=converged,
    )


def _log_odds_dropped(params: BGNBDParams, x: np.ndarray, tx: np.ndarray, big_t: np.ndarray) -> np.ndarray:
    """log( P(dropped out at t_x | data) / P(alive at T | data) ) for x > 0, -inf for x = 0."""
    repeat = x > 0
    x_safe = np.where(repeat, x, 1.0)
    log_ratio = (
        np.log(params.a)
        - np.log(params.b + x_safe - 1)
        + (params.r + x_safe) * (np.log(params.alpha + big_t) - np.log(params.alpha + tx))
    )
    return np.where(repeat, log_ratio, -np.inf)


def bgnbd_prob_alive(params: BGNBDParams, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> np.ndarray:
    """P(customer still active at T | frequency, recency, T) (Fader, Hardie & Lee 2005, equation 11).

    It is 1 when frequency is 0: in the BG/NBD a customer can only drop out right after a repeat purchase.
    """
    x, tx, big_t = _rfm_arrays(frequency, recency, T)
    return special.expit(-_log_odds_dropped(params, x, tx, big_t))


def bgnbd_prob_any_purchase(
    params: BGNBDParams, t: float, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> np.ndarray:
    """P(at least one purchase in the next `t` periods | history).

    A BG/NBD customer alive at T can only drop out right after a purchase, so they make none in (T, T+t] with
    the Poisson-Gamma probability ((alpha+T) / (alpha+T+t))^(r+x): P = P(alive) * (1 - that).
    """
    x, tx, big_t = _rfm_arrays(frequency, recency, T)
    t = _positive("t", t)
    silent = ((params.alpha + big_t) / (params.alpha + big_t + t)) ** (params.r + x)
    return bgnbd_prob_alive(params, x, tx, big_t) * (1.0 - silent)


# From this a + b on, Beta(a, b) is a point mass at p = a / (a + b) to within 0.3% of the expectation; scipy's
# hyp2f1 in equation 10 overflows there (an unpenalised fit can send a and b to 1e6), so the limit stands in.
FIXED_DROPOUT_AB = 1e3


def _expected_purchases_fixed_dropout(
    params: BGNBDParams, t: np.ndarray, x: np.ndarray, tx: np.ndarray, big_t: np.ndarray
) -> np.ndarray:
    """Equation 10's limit as a + b grows with a / (a + b) = p fixed.

    An alive customer's purchase at time s counts when no earlier purchase was the one they dropped out after:
    rate lambda * exp(-lambda p s), so E[purchases in t | lambda] = (1 - exp(-lambda p t)) / p. Over the
    posterior lambda ~ Gamma(r + x, alpha + T) that is (1 - ((alpha+T) / (alpha+T+p t))^(r+x)) / p.
    """
    p = params.a / (params.a + params.b)
    silent = ((params.alpha + big_t) / (params.alpha + big_t + p * t)) ** (params.r + x)
    return (1.0 - silent) / p * special.expit(-_log_odds_dropped(params, x, tx, big_t))


def _expected_purchases(
    params: BGNBDParams, t: np.ndarray, x: np.ndarray, tx: np.ndarray, big_t: np.ndarray
) -> np.ndarray:
    """Equation 10 of Fader, Hardie & Lee (2005), broadcast over t, x, t_x and T.

    The paper's term ((alpha+T)/(alpha+T+t))^(r+x) * 2F1(r+x, b+x; a+b+x-1; z) is rewritten with Euler's
    transformation 2F1(A, B; C; z) = (1-z)^(C-A-B) 2F1(C-A, C-B; C; z) as
    (1-z)^(a-1) * 2F1(a+b-1-r, a-1; a+b+x-1; z), z = t / (alpha+T+t). The two are equal, but the second has
    no large power multiplying a large hypergeometric value when x is large.
    """
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    if a == 1.0:
        raise ValueError("BGNBDParams.a = 1 exactly makes equation 10 0/0; refit or use a = 1 +/- 1e-9")
    one_minus_z = (alpha + big_t) / (alpha + big_t + t)
    z = t / (alpha + big_t + t)
    with np.errstate(invalid="ignore", over="ignore"):
        hyp = special.hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, z)
        unconditional = (a + b + x - 1) / (a - 1) * (1.0 - one_minus_z ** (a - 1) * hyp)
    expected = unconditional * special.expit(-_log_odds_dropped(params, x, tx, big_t))
    if a + b >= FIXED_DROPOUT_AB and not np.isfinite(expected).all():
        limit = _expected_purchases_fixed_dropout(params, t, x, tx, big_t)
        expected = np.where(np.isfinite(expected), expected, limit)
    return expected


def bgnbd_conditional_expected_purchases(
    params: BGNBDParams, t: float | ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> np.ndarray:
    """Expected number of purchases in the next `t` periods (after T) of each customer, given their history.

    `t` is a scalar or one value per customer, in the time unit of the fit.
    """
    x, tx, big_t = _rfm_arrays(frequency, recency, T)
    horizon = _vector("t", t, x.shape[0])
    if (horizon < 0).any():
        raise ValueError("t must be >= 0: it is the length of the prediction period")
    return _expected_purchases(params, horizon, x, tx, big_t)


def bgnbd_expected_purchases_new_customer(params: BGNBDParams, t: float | ArrayLike) -> np.ndarray:
    """Expected repeat purchases of a new customer in their first `t` periods (equation 9 of the paper)."""
    horizon = np.atleast_1d(np.asarray(t, dtype=np.float64))
    if not np.isfinite(horizon).all() or (horizon < 0).any():
        raise ValueError("t must be finite and >= 0: it is the time since the first purchase")
    zero = np.zeros_like(horizon)
    return _expected_purchases(params, horizon, zero, zero, zero)


# --------------------------------------------------------------------------------------------------------------
# Gamma-Gamma
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GammaGammaParams:
    """Fitted Gamma-Gamma parameters (Fader & Hardie 2013): transaction values ~ Gamma(p, nu), nu ~ Gamma(q, v).

    The population mean transaction value is ``p * v / (q - 1)`` (finite only when q > 1).
    """

    p: float
    q: float
    v: float
    log_likelihood: float = float("nan")
    n: int = 0
    converged: bool = True

    def __post_init__(self) -> None:
        for name in ("p", "q", "v"):
            _positive(f"GammaGammaParams.{name}", getattr(self, name))


def _gg_arrays(frequency: ArrayLike, monetary_value: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    x = _vector("frequency", frequency)
    m = _vector("monetary_value", monetary_value, x.shape[0])
    if (x < 0).any() or (x != np.round(x)).any():
        raise ValueError(
            "frequency must hold whole, non-negative numbers of repeat purchases; "
            "count distinct repeat purchase days, e.g. with rfm_summary"
        )
    if (m < 0).any():
        raise ValueError(
            f"monetary_value must be >= 0 ({int((m < 0).sum())} values are negative); it is a mean purchase amount: "
            "net refunds into their purchase days before summarising"
        )
    return x, m


def _gg_row_loglik(p: float, q: float, v: float, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Log-density of the mean of x transactions, m, under the Gamma-Gamma model (Fader & Hardie 2013, eq. 3)."""
    px = p * x
    return (
        special.gammaln(px + q)
        - special.gammaln(px)
        - special.gammaln(q)
        + q * np.log(v)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(v + m * x)
    )


def gamma_gamma_log_likelihood(params: GammaGammaParams, frequency: ArrayLike, monetary_value: ArrayLike) -> float:
    """Total Gamma-Gamma log-likelihood of the customers with frequency > 0."""
    x, m = _gg_arrays(frequency, monetary_value)
    keep = x > 0
    return float(np.sum(_gg_row_loglik(params.p, params.q, params.v, x[keep], m[keep])))


def fit_gamma_gamma(frequency: ArrayLike, monetary_value: ArrayLike, penalizer: float = 0.0) -> GammaGammaParams:
    """Maximum-likelihood Gamma-Gamma fit on the customers with frequency > 0 (the others carry no spend data).

    ``monetary_value`` must be the mean of each customer's repeat purchases (see ``rfm_summary``). The model
    assumes spend per purchase is independent of the number of purchases; check that their correlation is weak
    before using it. ``penalizer`` adds ``penalizer * (p^2 + q^2 + v^2)`` to the mean negative log-likelihood.
    """
    x, m = _gg_arrays(frequency, monetary_value)
    keep = x > 0
    if (m[keep] <= 0).any():
        raise ValueError(
            f"monetary_value must be > 0 when frequency > 0 ({int((m[keep] <= 0).sum())} customers are not): the "
            "Gamma-Gamma likelihood needs positive spend; leave zero-spend customers out of the fit"
        )
    if keep.sum() < 2:
        raise ValueError("fit_gamma_gamma needs at least 2 customers with frequency > 0")
    if not (math.isfinite(penalizer) and penalizer >= 0):
        raise ValueError(f"penalizer must be a finite number >= 0 (got {penalizer!r})")
    x, m = x[keep], m[keep]
    n = x.shape[0]

    def objective(log_params: np.ndarray) -> float:
        params = np.exp(log_params)
        return -float(np.sum(_gg_row_loglik(*params, x, m))) / n + penalizer * float(np.sum(params**2))

    # Start at p = 1, q = 2, v = mean spend: a prior whose mean p v / (q - 1) is the observed mean.
    best, converged = _fit_log_params(objective, np.log([1.0, 2.0, float(np.mean(m))]))
    p, q, v = (float(val) for val in np.exp(best))
    return GammaGammaParams(
        p=p,
        q=q,
        v=v,
        log_likelihood=float(np.sum(_gg_row_loglik(p, q, v, x, m))),
        n=int(n),
        converged=converged,
    )


def gamma_gamma_expected_spend(params: GammaGammaParams, frequency: ArrayLike, monetary_value: ArrayLike) -> np.ndarray:
    """E[mean transaction value | frequency, monetary_value] (Fader & Hardie 2013, equation 5).

    A weighted mean of the population mean ``p v / (q - 1)`` and the customer's own mean, the weight of the
    customer's mean growing with their number of purchases; frequency 0 gives the population mean.
    """
    if params.q <= 1:
        raise ValueError(
            f"GammaGammaParams.q = {params.q:.4g} <= 1: the population mean spend p*v/(q-1) is infinite; "
            "the spend data are too heavy-tailed for this model (cap outliers or use a penalizer)"
        )
    x, m = _gg_arrays(frequency, monetary_value)
    return params.p * (params.v + x * m) / (params.p * x + params.q - 1)


# --------------------------------------------------------------------------------------------------------------
# Non-contractual CLV
# --------------------------------------------------------------------------------------------------------------


def clv_non_contractual(
    purchase_model: Any,
    gg: GammaGammaParams,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    monetary_value: ArrayLike,
    horizon_periods: float,
    period_days: float,
    annual_discount_rate: float = 0.10,
    step_days: float = 30.0,
) -> pd.DataFrame:
    """Expected discounted value of each customer's purchases over the next `horizon_periods` periods.

    The horizon is cut into steps of `step_days` (the last one shorter when it does not divide evenly);
    ``clv = expected_spend * sum_i (E[N(t_i)] - E[N(t_(i-1))]) / (1 + d)^(days_i / 365)``, with ``E[N(t)]`` the
    BG/NBD conditional expectation and ``days_i`` the end of step i in days. For whole steps this is
    ``(1 + d_step)^-i`` with ``d_step = (1 + annual_discount_rate)^(step_days / 365) - 1``.

    `purchase_model` is a fitted purchase model: ``BGNBDParams`` or ``pareto_nbd.ParetoNBDParams`` (anything
    with ``conditional_expected_purchases(t, frequency, recency, T)`` and ``prob_alive(frequency, recency, T)``).

    Returns a DataFrame (index of `frequency` when it is a Series) with columns ``clv``, ``expected_purchases``
    (over the whole horizon, undiscounted), ``prob_alive`` and ``expected_spend`` (per purchase).
    """
    x, tx, big_t = _rfm_arrays(frequency, recency, T)
    spend = gamma_gamma_expected_spend(gg, x, monetary_value)
    horizon_periods = _positive("horizon_periods", horizon_periods)
    period_days = _positive("period_days", period_days)
    step_days = _positive("step_days", step_days)
    annual_discount_rate = float(annual_discount_rate)
    if not (math.isfinite(annual_discount_rate) and annual_discount_rate > -1):
        raise ValueError(f"annual_discount_rate must be > -1, e.g. 0.10 for 10% (got {annual_discount_rate!r})")

    horizon_days = horizon_periods * period_days
    n_steps = math.ceil(horizon_days / step_days - 1e-9)
    step_end_days = np.minimum(np.arange(1, n_steps + 1) * step_days, horizon_days)
    cumulative = np.column_stack(
        [purchase_model.conditional_expected_purchases(days / period_days, x, tx, big_t) for days in step_end_days]
    )
    increments = np.diff(cumulative, axis=1, prepend=0.0)
    discount = (1.0 + annual_discount_rate) ** (-step_end_days / 365.0)
    return pd.DataFrame(
        {
            "clv": spend * (increments @ discount),
            "expected_purchases": cumulative[:, -1],
            "prob_alive": purchase_model.prob_alive(x, tx, big_t),
            "expected_spend": spend,
        },
        index=_index_of(frequency),
    )


def clv_value_fn(
    purchase_model: Any,
    gg: GammaGammaParams,
    horizon_periods: float,
    period_days: float,
    annual_discount_rate: float = 0.10,
    step_days: float = 30.0,
) -> Callable[[pd.DataFrame], np.ndarray]:
    """``clv_non_contractual`` as a function of a DataFrame (frequency, recency, T, monetary_value), for Shapley.

    Shapley coalitions mix a customer's values with the baseline's, which can put a recency beyond a T, or a
    recency > 0 with frequency 0. The returned function caps recency at T; with frequency 0 recency is ignored
    anyway. Use a real customer profile (whole frequency) as the baseline.
    """

    def value(frame: pd.DataFrame) -> np.ndarray:
        big_t = frame["T"].to_numpy(dtype=np.float64)
        recency = np.minimum(frame["recency"].to_numpy(dtype=np.float64), big_t)
        return clv_non_contractual(
            purchase_model,
            gg,
            frame["frequency"].to_numpy(dtype=np.float64),
            recency,
            big_t,
            frame["monetary_value"].to_numpy(dtype=np.float64),
            horizon_periods,
            period_days,
            annual_discount_rate,
            step_days,
        )["clv"].to_numpy()

    return value


# --------------------------------------------------------------------------------------------------------------
# Contractual (subscription) value
# --------------------------------------------------------------------------------------------------------------


def kaplan_meier(durations: ArrayLike, observed: ArrayLike) -> pd.DataFrame:
    """Kaplan-Meier survival curve of subscriptions.

    `durations` are months from start to end (observed = True/1: the subscription ended) or to the last time it
    was seen active (observed = False/0: censored). At a time with both ends and censorings, the censored
    subscriptions count as at risk (they were seen active at that time), the usual convention.

    Returns one row per distinct duration, ascending, preceded by (0, survival 1) when no duration is 0:
    ``time, at_risk, events, censored, survival`` where survival is S(t) = P(duration > t). The last row is the
    longest observed duration: beyond it the curve is unknown (see ``subscription_expected_remaining_value``).
    """
    t = _vector("durations", durations)
    if t.shape[0] == 0:
        raise ValueError("durations is empty: kaplan_meier needs at least one subscription")
    if (t < 0).any():
        raise ValueError("durations must be >= 0 months")
    raw_events = np.asarray(observed)
    if raw_events.shape != t.shape:
        raise ValueError(f"observed has shape {raw_events.shape} but durations has {t.shape}; pass one flag each")
    events = _vector("observed", raw_events.astype(np.float64))
    if not np.isin(events, (0.0, 1.0)).all():
        raise ValueError("observed must hold booleans or 0/1 (1: the subscription ended, 0: censored)")

    times, inverse = np.unique(t, return_inverse=True)
    n_at = np.bincount(inverse, minlength=times.shape[0]).astype(np.float64)
    d_at = np.bincount(inverse, weights=events, minlength=times.shape[0])
    at_risk = t.shape[0] - np.concatenate([[0.0], np.cumsum(n_at)[:-1]])
    survival = np.cumprod(1.0 - d_at / at_risk)
    table = pd.DataFrame(
        {
            "time": times,
            "at_risk": at_risk.astype(np.int64),
            "events": d_at.astype(np.int64),
            "censored": (n_at - d_at).astype(np.int64),
            "survival": survival,
        }
    )
    if times[0] > 0:
        start = pd.DataFrame({"time": [0.0], "at_risk": [t.shape[0]], "events": [0], "censored": [0]})
        table = pd.concat([start.assign(survival=1.0), table], ignore_index=True)
    return table


def _survival_function(survival_table: pd.DataFrame) -> Callable[[np.ndarray], np.ndarray]:
    """S(t) from a Kaplan-Meier table: the step function up to its last time, then a constant hazard.

    The hazard beyond the last time is the average of the last TAIL_HAZARD_MONTHS months of the curve,
    -log(S(last) / S(last - 12)) / 12, or of the whole curve when it is shorter: the recent hazard of long-lived
    subscriptions is the best guess of their future one. A curve that reaches 0 stays 0.
    """
    for col in ("time", "survival"):
        if col not in survival_table.columns:
            raise ValueError(f"survival_table needs a {col!r} column; build it with kaplan_meier(durations, observed)")
    times = survival_table["time"].to_numpy(dtype=np.float64)
    surv = survival_table["survival"].to_numpy(dtype=np.float64)
    if times.shape[0] == 0 or not (np.isfinite(times).all() and np.isfinite(surv).all()):
        raise ValueError("survival_table must have at least one row and finite time and survival values")
    if (np.diff(times) <= 0).any() or (np.diff(surv) > 1e-12).any() or (surv < 0).any() or (surv > 1).any():
        raise ValueError(
            "survival_table must have increasing times and non-increasing survival in [0, 1]; "
            "build it with kaplan_meier(durations, observed)"
        )
    last = times[-1]
    if last <= 0:
        raise ValueError("survival_table must cover some positive time (all its durations are 0)")

    def step(at: np.ndarray) -> np.ndarray:
        idx = np.searchsorted(times, at, side="right") - 1
        return np.where(idx >= 0, surv[np.maximum(idx, 0)], 1.0)

    window_start = max(last - TAIL_HAZARD_MONTHS, 0.0)
    s_last = float(step(np.array([last]))[0])
    s_start = float(step(np.array([window_start]))[0])
    hazard = np.inf if s_last == 0 else (math.log(s_start) - math.log(s_last)) / (last - window_start)

    def survival(at: np.ndarray) -> np.ndarray:
        beyond = np.maximum(at - last, 0.0)
        with np.errstate(invalid="ignore"):
            tail = s_last * np.exp(-hazard * beyond) if s_last > 0 else np.zeros_like(at)
        return np.where(at <= last, step(at), tail)

    return survival


def subscription_expected_remaining_value(
    tenure_months: ArrayLike,
    monthly_amount: ArrayLike,
    survival_table: pd.DataFrame,
    relative_risk: ArrayLike | None = None,
    horizon_months: int = 36,
    annual_discount_rate: float = 0.10,
) -> pd.DataFrame:
    """Expected discounted value of each subscriber's next `horizon_months` monthly payments.

    For a subscriber at tenure a: ``value = monthly_amount * sum_{k=1..horizon} (S(a+k)/S(a))^rr * (1+d)^(-k/12)``
    where S is the Kaplan-Meier curve (a step function; beyond its last time it decays at the constant hazard of
    its last 12 months, or of the whole curve when shorter), ``rr`` the subscriber's `relative_risk`
    (proportional hazards: rr = 2 doubles the hazard; 1 when None) and d the annual discount rate. The payment
    of month k counts when the subscriber is still subscribed at a+k.

    Returns a DataFrame (index of `tenure_months` when it is a Series) with ``expected_remaining_value`` and
    ``expected_remaining_months`` (undiscounted expected paid months within the horizon). Subscribers whose
    tenure is past a point where the curve reaches 0 get 0: the data say nobody stays that long.
    """
    a = _vector("tenure_months", tenure_months)
    n = a.shape[0]
    if (a < 0).any():
        raise ValueError("tenure_months must be >= 0 (months since the subscription started)")
    amount = _vector("monthly_amount", monthly_amount, n)
    rr = np.ones(n) if relative_risk is None else _vector("relative_risk", relative_risk, n)
    if (rr <= 0).any():
        raise ValueError("relative_risk must be > 0 (1 = the average subscriber's hazard)")
    if int(horizon_months) != horizon_months or horizon_months < 1:
        raise ValueError(f"horizon_months must be a whole number >= 1 (got {horizon_months!r})")
    if not (math.isfinite(annual_discount_rate) and annual_discount_rate > -1):
        raise ValueError(f"annual_discount_rate must be > -1, e.g. 0.10 for 10% (got {annual_discount_rate!r})")
    survival = _survival_function(survival_table)

    k = np.arange(1, int(horizon_months) + 1, dtype=np.float64)
    s_now = survival(a)
    s_future = survival(a[:, None] + k[None, :])
    with np.errstate(divide="ignore", invalid="ignore"):
        conditional = np.where(s_now[:, None] > 0, s_future / s_now[:, None], 0.0)
    conditional = np.clip(conditional, 0.0, 1.0) ** rr[:, None]
    discount = (1.0 + annual_discount_rate) ** (-k / 12.0)
    return pd.DataFrame(
        {
            "expected_remaining_value": amount * (conditional @ discount),
            "expected_remaining_months": conditional.sum(axis=1),
        },
        index=_index_of(tenure_months),
    )


# --------------------------------------------------------------------------------------------------------------
# Explanations
# --------------------------------------------------------------------------------------------------------------


def clv_shapley(value_fn: Callable[[pd.DataFrame], ArrayLike], X: pd.DataFrame, baseline: pd.Series) -> pd.DataFrame:
    """Exact Shapley contributions of each column of `X` to ``value_fn(X) - value_fn(baseline)``, per row.

    The game of a row is v(S) = value_fn(row's values for the columns in S, baseline values for the others);
    the contribution of column j is the Shapley value sum over S without j of |S|!(k-|S|-1)!/k! (v(S+j) - v(S)).
    All 2^k coalitions are evaluated, each as one call of `value_fn` on all rows, so k is limited to
    MAX_SHAPLEY_COLUMNS (6: 64 calls). Contributions add up exactly to value - baseline value (efficiency);
    ``result.attrs["baseline_value"]`` holds value_fn at the baseline.

    `value_fn` takes a DataFrame with the columns of `X` and returns one value per row; it must accept mixed
    rows (see ``clv_value_fn`` for the BG/NBD + Gamma-Gamma value).
    """
    if not isinstance(X, pd.DataFrame):
        raise ValueError(f"X must be a pandas DataFrame of the inputs (got {type(X).__name__})")
    columns = list(X.columns)
    k = len(columns)
    if not 1 <= k <= MAX_SHAPLEY_COLUMNS:
        raise ValueError(
            f"X has {k} columns; exact Shapley needs 1 to {MAX_SHAPLEY_COLUMNS} (2^k calls of value_fn): "
            "keep only the inputs to explain, fixing the others inside value_fn"
        )
    missing = [c for c in columns if c not in baseline.index]
    if missing:
        raise ValueError(f"baseline has no value for {missing}; pass a Series indexed by the columns of X")
    n = len(X)

    masks = np.arange(2**k)
    members = ((masks[:, None] >> np.arange(k)[None, :]) & 1).astype(bool)  # coalition x column
    values = np.empty((masks.shape[0], n))
    for mask in masks:  # one vectorised call per coalition
        frame = pd.DataFrame(
            {
                c: (X[c] if members[mask, j] else pd.Series(np.repeat(baseline[c], n), index=X.index))
                for j, c in enumerate(columns)
            },
            index=X.index,
        )
        out = np.asarray(value_fn(frame), dtype=np.float64).reshape(-1)
        if out.shape[0] != n:
            raise ValueError(f"value_fn returned {out.shape[0]} values for {n} rows; it must return one per row")
        values[mask] = out

    size = members.sum(axis=1)
    fact = np.array([math.factorial(i) for i in range(k + 1)], dtype=np.float64)
    # weight of coalition S in phi_j: +w(|S|-1) when j in S (as S = S' + j), -w(|S|) when j not in S.
    weight_in = fact[np.maximum(size - 1, 0)] * fact[k - size] / fact[k]
    weight_out = fact[size] * fact[np.maximum(k - size - 1, 0)] / fact[k]
    weights = np.where(members.T, weight_in[None, :], -weight_out[None, :])  # column x coalition
    result = pd.DataFrame((weights @ values).T, index=X.index, columns=columns)
    result.attrs["baseline_value"] = float(values[0, 0]) if n else float("nan")
    return result


# --------------------------------------------------------------------------------------------------------------
# CDNOW check against the papers
# --------------------------------------------------------------------------------------------------------------


def _compare(fitted: dict[str, float], published: dict[str, float]) -> list[dict[str, Any]]:
    return [
        {
            "parameter": name,
            "fitted": float(fitted[name]),
            "published": float(value),
            "relative_difference": float(fitted[name] / value - 1.0),
        }
        for name, value in published.items()
    ]


def _by_frequency(x: np.ndarray, predicted: np.ndarray, actual: np.ndarray) -> list[dict[str, Any]]:
    """Mean predicted and actual holdout purchases by calibration frequency 0..6, 7+ (Figure 4 of the paper)."""
    bucket = np.minimum(x, 7).astype(np.int64)
    groups = (
        pd.DataFrame({"bucket": bucket, "predicted": predicted, "actual": actual})
        .groupby("bucket", sort=True)
        .agg(customers=("actual", "size"), mean_predicted=("predicted", "mean"), mean_actual=("actual", "mean"))
    )
    return [
        {
            "frequency": "7+" if int(b) == 7 else str(int(b)),
            "customers": int(row.customers),
            "mean_predicted": float(row.mean_predicted),
            "mean_actual": float(row.mean_actual),
        }
        for b, row in groups.iterrows()
    ]


def cdnow_report(path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Fit the purchase models and Gamma-Gamma on the CDNOW sample; compare with the papers and the holdout.

    Calibration: the first 39 weeks (1997-01-01 to 1997-09-30, all first purchases are in Jan-Mar 1997),
    holdout: the next 39 weeks (to 1998-06-30), time unit: weeks. Returns plain Python types (JSON-ready):
    BG/NBD, Pareto/NBD and Gamma-Gamma parameters next to the published ones with relative differences, the
    BG/NBD fit time, the purchase model chosen on the calibration period's own last 13 weeks
    (``purchase_model_choice``), and the holdout check of each family and of the chosen one: totals, mean
    absolute error and correlation against the naive rate extrapolation, P(any purchase) as a probability,
    spend, and mean predicted vs actual purchases by calibration frequency 0..6, 7+ (the paper's Figure 4).
    ``data.holdout_counts`` gives the holdout purchases as rows, purchase days (what is forecast) and
    customer-calendar-weeks, to compare with figures published under another count (``holdout_counts``).
    `path` defaults to cdnow/CDNOW_sample.txt in the shared data folder.
    """
    from empathy.predict import pareto_nbd as pn
    from empathy.predict import purchase_model_choice as pc

    file = Path(path) if path is not None else _default_cdnow_path()
    transactions = load_cdnow(file)
    summary = rfm_summary(
        transactions,
        "customer_id",
        "date",
        "amount",
        calibration_end=CDNOW_CALIBRATION_END,
        observation_end=CDNOW_OBSERVATION_END,
        period_days=7.0,
    )
    x = summary["frequency"].to_numpy()
    tx = summary["recency"].to_numpy()
    big_t = summary["T"].to_numpy()

    started = time.perf_counter()
    bgnbd = fit_bgnbd(x, tx, big_t)
    fit_seconds = time.perf_counter() - started
    pareto = pn.fit_pareto_nbd(x, tx, big_t)
    gg = fit_gamma_gamma(x, summary["monetary_value"].to_numpy())
    choice = pc.choose_purchase_model(transactions, "customer_id", "date", "amount", CDNOW_CALIBRATION_END, 7.0)

    actual = summary["frequency_holdout"].to_numpy().astype(np.float64)
    weeks = float(summary["duration_holdout"].iloc[0])
    by_family = {}
    for model in (bgnbd, pareto):
        figures = pc.holdout_check(model, gg, summary)
        figures["by_frequency"] = _by_frequency(x, model.conditional_expected_purchases(weeks, x, tx, big_t), actual)
        by_family[model.family] = figures
    return {
        "data": {
            "path": str(file),
            "transactions": len(transactions),
            "customers": len(summary),
            "repeat_customers": int((x > 0).sum()),
            "calibration_end": CDNOW_CALIBRATION_END,
            "observation_end": CDNOW_OBSERVATION_END,
            "period_days": 7.0,
            "holdout_counts": holdout_counts(
                transactions, "customer_id", "date", CDNOW_CALIBRATION_END, CDNOW_OBSERVATION_END
            ),
        },
        "bgnbd": {
            "parameters": _compare(bgnbd.to_dict(), PUBLISHED_BGNBD),
            "log_likelihood": bgnbd.log_likelihood,
            "converged": bgnbd.converged,
            "fit_seconds": float(fit_seconds),
            "source": "Fader, Hardie & Lee (2005), Marketing Science 24(2)",
        },
        "pareto_nbd": {
            "parameters": _compare(pareto.to_dict(), pn.PUBLISHED_PARETO_NBD),
            "log_likelihood": pareto.log_likelihood,
            "converged": pareto.converged,
            "source": "Fader, Hardie & Lee (2005), table 1",
        },
        "gamma_gamma": {
            "parameters": _compare({"p": gg.p, "q": gg.q, "v": gg.v}, PUBLISHED_GAMMA_GAMMA),
            "customers": gg.n,
            "log_likelihood": gg.log_likelihood,
            "converged": gg.converged,
            "source": "Fader & Hardie (2013), The Gamma-Gamma model of monetary value",
        },
        "choice": choice.as_dict(),
        "holdout_by_family": by_family,
        "holdout": by_family[choice.family],
    }
