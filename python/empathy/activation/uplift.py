"""Treated against holdout: the uplift of each experiment on each outcome, with 95% intervals.

Input: one row per exposure (intermediate.int_treatment_exposure_outcomes), of which each customer's first
exposure to an experiment is used (``is_first_exposure``): the arm is the customer's, so a later decision for the
same experiment is taken after the arm has acted on the customer (a treated customer who bought more is in
another state when decided for again) and is no longer a randomised comparison. Output: one row per experiment
and metric:

* ``order_rate``: orders per customer-day observed in the outcome window, treated over holdout;
* ``churn_rate``: churn events per subscriber-day at risk, treated over holdout (subscribers only);

both a ratio of rates with the interval exp(log ratio +- z se). The standard error takes the larger of the
Poisson variance (1/events_t + 1/events_h) and the cluster-robust (sandwich) variance with the customer as
cluster: customers differ in how often they buy (overdispersion), and one customer's exposures to an experiment
share an arm, so the Poisson interval alone is too narrow;

* ``revenue_per_day``: revenue in US dollars per customer-day, treated minus holdout (per exposure,
  Welch's interval with the Welch-Satterthwaite degrees of freedom);
* ``sentiment``: the mean sentiment (-1..1) of the texts a customer wrote in the window, treated minus holdout,
  among the exposures followed by a text (Welch's interval). Writing at all may itself depend on the arm, so this
  compares those who wrote; it is reported, not checked against a truth (DECISIONLOG.md).

An estimate needs at least ``min_per_arm`` exposures in each arm and, for a ratio, ``min_events``
events in each; otherwise the estimate and interval are null and ``status`` says why.
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy import stats

from empathy import status

Z95 = 1.959963984540054
RATE_METRICS = (("order_rate", "orders", "observed_days"), ("churn_rate", "is_churned", "days_at_risk"))
SCHEMA = pa.schema(
    [
        ("experiment_id", pa.string()),
        ("treatment_id", pa.string()),
        ("metric", pa.string()),
        ("n_treated", pa.int64()),
        ("n_holdout", pa.int64()),
        ("events_treated", pa.float64()),
        ("events_holdout", pa.float64()),
        ("exposure_days_treated", pa.float64()),
        ("exposure_days_holdout", pa.float64()),
        ("estimate", pa.float64()),
        ("ci_low", pa.float64()),
        ("ci_high", pa.float64()),
        ("method", pa.string()),
        ("status", pa.string()),
        ("status_reason", pa.string()),
    ]
)


def rate_ratio(events_t: float, days_t: float, events_h: float, days_h: float) -> tuple[float, float, float]:
    """Ratio of Poisson rates (treated over holdout) and its 95% interval on the log scale."""
    if min(events_t, events_h) <= 0 or min(days_t, days_h) <= 0:
        raise ValueError("rate_ratio needs at least one event and one day at risk in each arm")
    ratio = (events_t / days_t) / (events_h / days_h)
    half = Z95 * math.sqrt(1.0 / events_t + 1.0 / events_h)
    return ratio, ratio * math.exp(-half), ratio * math.exp(half)


def _robust_log_variance(events: np.ndarray, days: np.ndarray, clusters: np.ndarray) -> float:
    """Sandwich variance of log(sum events / sum days), the residuals summed within each cluster first."""
    rate = events.sum() / days.sum()
    residual = events - rate * days
    _, index = np.unique(clusters, return_inverse=True)
    per_cluster = np.bincount(index, weights=residual)
    return float((per_cluster**2).sum() / events.sum() ** 2)


def robust_rate_ratio(
    events_t: np.ndarray,
    days_t: np.ndarray,
    clusters_t: np.ndarray,
    events_h: np.ndarray,
    days_h: np.ndarray,
    clusters_h: np.ndarray,
) -> tuple[float, float, float]:
    """Rate ratio (treated over holdout) from per-exposure events and days, with the 95% interval on the log scale
    whose variance is the larger of the Poisson and the customer-clustered sandwich variance."""
    events_t, days_t, events_h, days_h = (np.asarray(a, float) for a in (events_t, days_t, events_h, days_h))
    ratio, _, _ = rate_ratio(events_t.sum(), days_t.sum(), events_h.sum(), days_h.sum())
    poisson = 1.0 / events_t.sum() + 1.0 / events_h.sum()
    robust = _robust_log_variance(events_t, days_t, np.asarray(clusters_t)) + _robust_log_variance(
        events_h, days_h, np.asarray(clusters_h)
    )
    half = Z95 * math.sqrt(max(poisson, robust))
    return ratio, ratio * math.exp(-half), ratio * math.exp(half)


def welch_difference(treated: np.ndarray, holdout: np.ndarray) -> tuple[float, float, float]:
    """Difference of means (treated minus holdout) and its 95% Welch interval."""
    treated, holdout = np.asarray(treated, float), np.asarray(holdout, float)
    if min(len(treated), len(holdout)) < 2:
        raise ValueError("welch_difference needs at least two values in each arm")
    var_t, var_h = treated.var(ddof=1) / len(treated), holdout.var(ddof=1) / len(holdout)
    diff = float(treated.mean() - holdout.mean())
    se = math.sqrt(var_t + var_h)
    if se == 0:
        return diff, diff, diff
    df = (var_t + var_h) ** 2 / (var_t**2 / (len(treated) - 1) + var_h**2 / (len(holdout) - 1))
    half = float(stats.t.ppf(0.975, df)) * se
    return diff, diff - half, diff + half


def _row(experiment: str, treatment: str, metric: str, method: str, **values) -> dict:
    row = {name: None for name in SCHEMA.names}
    row.update(experiment_id=experiment, treatment_id=treatment, metric=metric, method=method, **values)
    return row


def _rate_row(experiment, treatment, metric, events, days, arm, customers, min_events, min_per_arm) -> dict:
    usable = ~np.isnan(days)
    t, h = usable & (arm == "treated"), usable & (arm == "holdout")
    counts = {
        "n_treated": int(t.sum()), "n_holdout": int(h.sum()),
        "events_treated": float(events[t].sum()), "events_holdout": float(events[h].sum()),
        "exposure_days_treated": float(days[t].sum()), "exposure_days_holdout": float(days[h].sum()),
    }  # fmt: skip
    row = _row(experiment, treatment, metric, "rate_ratio_log_ci_customer_robust", **counts)
    if min(counts["n_treated"], counts["n_holdout"]) < min_per_arm:
        return {**row, "status": "too_few_customers", "status_reason": f"fewer than {min_per_arm} exposures in an arm"}
    if min(counts["events_treated"], counts["events_holdout"]) < min_events:
        return {**row, "status": "too_few_events", "status_reason": f"fewer than {min_events} events in an arm"}
    est, low, high = robust_rate_ratio(events[t], days[t], customers[t], events[h], days[h], customers[h])
    return {**row, "estimate": est, "ci_low": low, "ci_high": high, "status": "estimated"}


def _revenue_row(experiment, treatment, revenue, days, arm, min_per_arm) -> dict:
    per_day = np.where(days > 0, revenue / np.where(days > 0, days, 1), np.nan)
    t = per_day[(arm == "treated") & ~np.isnan(per_day)]
    h = per_day[(arm == "holdout") & ~np.isnan(per_day)]
    row = _row(
        experiment, treatment, "revenue_per_day", "welch_difference_of_means",
        n_treated=len(t), n_holdout=len(h), exposure_days_treated=float(days[(arm == "treated") & (days > 0)].sum()),
        exposure_days_holdout=float(days[(arm == "holdout") & (days > 0)].sum()),
    )  # fmt: skip
    if min(len(t), len(h)) < max(min_per_arm, 2):
        return {**row, "status": "too_few_customers", "status_reason": f"fewer than {min_per_arm} exposures in an arm"}
    est, low, high = welch_difference(t, h)
    return {**row, "estimate": est, "ci_low": low, "ci_high": high, "status": "estimated"}


def _sentiment_row(experiment, treatment, sentiment, arm, min_per_arm) -> dict:
    wrote = ~np.isnan(sentiment)
    t, h = sentiment[wrote & (arm == "treated")], sentiment[wrote & (arm == "holdout")]
    row = _row(experiment, treatment, "sentiment", "welch_difference_of_means", n_treated=len(t), n_holdout=len(h))
    if min(len(t), len(h)) < max(min_per_arm, 2):
        return {
            **row,
            "status": "too_few_customers",
            "status_reason": f"fewer than {min_per_arm} exposures followed by a text in an arm",
        }
    est, low, high = welch_difference(t, h)
    return {**row, "estimate": est, "ci_low": low, "ci_high": high, "status": "estimated"}


def _column(table: pa.Table, name: str) -> np.ndarray:
    return np.array(table.column(name).to_pylist(), dtype=float)


def estimate_outcomes(exposures, min_events: int = 5, min_per_arm: int = 20) -> pa.Table:
    """One row per experiment and metric (see the module docstring); empty, with a status, without exposures.

    ``exposures`` is an Arrow table or an ibis table (as the dbt Python model passes it)."""
    if not isinstance(exposures, pa.Table):
        exposures = exposures.to_pyarrow()
    if exposures.num_rows == 0:
        status.report(
            "experiments",
            "skipped",
            "no treatment exposures: the company sends no treatment_exposures table",
            fix="send landing/treatment_exposures (one row per decision carried out or held out)",
        )
        return SCHEMA.empty_table()
    if "is_first_exposure" in exposures.column_names:
        exposures = exposures.filter(pc.equal(exposures.column("is_first_exposure"), True))
    rows = []
    experiments = np.array(exposures.column("experiment_id").to_pylist(), dtype=object)
    treatments = np.array(exposures.column("treatment_id").to_pylist(), dtype=object)
    arms = np.array(exposures.column("experiment_arm").to_pylist(), dtype=object)
    customers = np.array(exposures.column("customer_id").to_pylist(), dtype=object)
    for experiment in sorted(set(experiments)):
        mask = experiments == experiment
        treatment = str(sorted(set(treatments[mask]))[0])
        sub = exposures.filter(pa.array(mask))
        for metric, events, days in RATE_METRICS:
            rows.append(
                _rate_row(
                    experiment, treatment, metric, _column(sub, events), _column(sub, days), arms[mask], customers[mask],
                    min_events, min_per_arm,
                )
            )  # fmt: skip
        rows.append(
            _revenue_row(
                experiment,
                treatment,
                _column(sub, "revenue_usd"),
                _column(sub, "observed_days"),
                arms[mask],
                min_per_arm,
            )
        )
        if "mean_sentiment_after" in sub.column_names:
            rows.append(
                _sentiment_row(experiment, treatment, _column(sub, "mean_sentiment_after"), arms[mask], min_per_arm)
            )
    estimated = sum(r["status"] == "estimated" for r in rows)
    status.report(
        "experiments",
        "ok" if estimated else "degraded",
        f"{estimated} of {len(rows)} experiment outcomes estimated",
        counts={"estimated": estimated, "rows": len(rows)},
        fix="" if estimated else "more exposures or a longer history per experiment",
    )
    return pa.Table.from_pylist(rows, schema=SCHEMA)
