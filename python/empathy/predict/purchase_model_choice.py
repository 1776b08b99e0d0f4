"""Which purchase model a company's data get, chosen on the last part of its own calibration period.

The candidates (BG/NBD, Pareto/NBD) are each fitted on the calibration period minus its last part (the inner
holdout) and judged by their per-customer mean absolute error on the purchase days of that inner holdout; the
best is refitted on the whole calibration period. The final holdout (the data after the calibration period)
never takes part in the choice. ``holdout_check`` gives the figures of a fitted model on a holdout: totals,
per-customer error and correlation against the naive rate extrapolation, spend, and P(any purchase) as a
probability (Brier score and reliability).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from empathy.predict import clv as cl
from empathy.predict import pareto_nbd as pn

FITTERS: dict[str, Callable[..., Any]] = {"bgnbd": cl.fit_bgnbd, "pareto_nbd": pn.fit_pareto_nbd}
PARAMS_CLASSES: dict[str, type] = {"bgnbd": cl.BGNBDParams, "pareto_nbd": pn.ParetoNBDParams}
# Share of the calibration span (first purchase to calibration end) held out to choose the model.
INNER_HOLDOUT_SHARE = 1.0 / 3.0
MIN_INNER_HOLDOUT_DAYS = 28
MAX_INNER_HOLDOUT_DAYS = 365
MIN_REPEAT_CUSTOMERS = 20
RELIABILITY_BINS = 10


@dataclass(frozen=True)
class ModelChoice:
    """The chosen family, its fit on the whole calibration period, and every candidate's inner-holdout figures."""

    family: str
    model: Any
    inner_holdout_start: str
    inner_holdout_days: int
    candidates: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "family": self.family,
            "parameters": self.model.to_dict(),
            "rule": "lowest per-customer MAE of purchase days in the inner holdout (the calibration's last part)",
            "inner_holdout_start": self.inner_holdout_start,
            "inner_holdout_days": self.inner_holdout_days,
            "candidates": self.candidates,
        }


def fit_purchase_model(family: str, frequency: Any, recency: Any, T: Any) -> Any:
    """Fit one purchase-model family ('bgnbd' or 'pareto_nbd') on (frequency, recency, T)."""
    if family not in FITTERS:
        raise ValueError(f"family must be one of {sorted(FITTERS)} (got {family!r})")
    return FITTERS[family](frequency, recency, T)


def purchase_model_from_dict(family: str, params: dict[str, float]) -> Any:
    """A fitted purchase model from its family and parameters (as ``model.to_dict()`` wrote them)."""
    if family not in PARAMS_CLASSES:
        raise ValueError(f"family must be one of {sorted(PARAMS_CLASSES)} (got {family!r})")
    cls = PARAMS_CLASSES[family]
    names = _param_names(cls)
    missing = [n for n in names if n not in params]
    if missing:
        raise ValueError(f"parameters of {family} lack {missing}; pass the dict written by model.to_dict()")
    return cls(**{n: float(params[n]) for n in names})


def _param_names(cls: type) -> list[str]:
    return [n for n in cls.__dataclass_fields__ if n not in ("log_likelihood", "n", "converged")]


def inner_holdout_start(first_day: pd.Timestamp, calibration_end: pd.Timestamp) -> tuple[pd.Timestamp, int]:
    """Last day of the inner calibration and the inner holdout's length in days.

    The inner holdout is the last INNER_HOLDOUT_SHARE of the calibration span, at least MIN_INNER_HOLDOUT_DAYS
    and at most MAX_INNER_HOLDOUT_DAYS days.
    """
    span = (calibration_end - first_day).days
    days = round(min(max(span * INNER_HOLDOUT_SHARE, MIN_INNER_HOLDOUT_DAYS), MAX_INNER_HOLDOUT_DAYS))
    if days >= span:
        raise ValueError(
            f"the calibration period spans {span} days: too short to hold out {days} days to choose a model; "
            "pass a longer purchase history"
        )
    return calibration_end - pd.Timedelta(days=days), days


def _inner_scores(family: str, inner: pd.DataFrame) -> dict[str, Any]:
    horizon = float(inner["duration_holdout"].iloc[0])
    actual = inner["frequency_holdout"].to_numpy(dtype=np.float64)
    try:
        model = fit_purchase_model(family, inner["frequency"], inner["recency"], inner["T"])
        predicted = model.conditional_expected_purchases(horizon, inner["frequency"], inner["recency"], inner["T"])
    except (ValueError, FloatingPointError) as exc:
        return {"family": family, "inner_mae": None, "inner_total_relative_difference": None, "error": str(exc)}
    if not np.isfinite(predicted).all():
        return {"family": family, "inner_mae": None, "inner_total_relative_difference": None, "error": "non-finite"}
    return {
        "family": family,
        "inner_mae": float(np.mean(np.abs(predicted - actual))),
        "inner_total_relative_difference": float(predicted.sum() / max(actual.sum(), 1.0) - 1.0),
        "inner_log_likelihood": float(model.log_likelihood),
    }


def choose_purchase_model(
    transactions: pd.DataFrame,
    customer_col: str,
    date_col: str,
    amount_col: str,
    calibration_end: Any,
    period_days: float = 7.0,
    families: tuple[str, ...] = ("bgnbd", "pareto_nbd"),
) -> ModelChoice:
    """Choose the purchase model on an inner holdout of the calibration data, then refit it on all of it.

    Only transactions up to `calibration_end` are read. The first family in `families` wins ties and is the
    fallback when the inner calibration has fewer than MIN_REPEAT_CUSTOMERS repeat customers.
    """
    cal_end = pd.Timestamp(calibration_end).normalize()
    dates = pd.to_datetime(transactions[date_col])
    seen = transactions[dates.dt.normalize() <= cal_end]
    start, days = inner_holdout_start(pd.to_datetime(seen[date_col]).min().normalize(), cal_end)
    inner = cl.rfm_summary(seen, customer_col, date_col, amount_col, start, cal_end, period_days)
    if int((inner["frequency"] > 0).sum()) >= MIN_REPEAT_CUSTOMERS:
        candidates = [_inner_scores(family, inner) for family in families]
    else:
        candidates = [{"family": families[0], "inner_mae": None, "error": "too few repeat customers to compare"}]
    scored = [c for c in candidates if c.get("inner_mae") is not None]
    family = min(scored, key=lambda c: c["inner_mae"])["family"] if scored else families[0]
    full = cl.rfm_summary(seen, customer_col, date_col, amount_col, cal_end, period_days=period_days)
    model = fit_purchase_model(family, full["frequency"], full["recency"], full["T"])
    return ModelChoice(family, model, str((start + pd.Timedelta(days=1)).date()), days, candidates)


def naive_purchases(frequency: Any, T: Any, horizon: float) -> np.ndarray:
    """The naive forecast: each customer's calibration rate of repeat purchases, frequency / T, times the horizon."""
    x = np.asarray(frequency, dtype=np.float64)
    big_t = np.asarray(T, dtype=np.float64)
    return np.where(big_t > 0, x / np.maximum(big_t, 1e-12), 0.0) * horizon


def _corr(a: np.ndarray, b: np.ndarray) -> float | None:
    return float(np.corrcoef(a, b)[0, 1]) if np.std(a) > 0 and np.std(b) > 0 else None


def reliability_table(probability: np.ndarray, outcome: np.ndarray, bins: int = RELIABILITY_BINS) -> list[dict]:
    """Mean predicted probability and observed share per equal-count bin of the predicted probability."""
    order = np.argsort(probability, kind="stable")
    rows = []
    for part in np.array_split(order, bins):
        if len(part):
            rows.append(
                {
                    "customers": len(part),
                    "mean_predicted": float(probability[part].mean()),
                    "observed": float(outcome[part].mean()),
                }
            )
    return rows


def holdout_check(model: Any, gg: cl.GammaGammaParams | None, summary: pd.DataFrame) -> dict[str, Any]:
    """Figures of a fitted purchase model (and Gamma-Gamma spend) on the holdout columns of an rfm_summary."""
    x, tx, big_t = summary["frequency"], summary["recency"], summary["T"]
    horizon = float(summary["duration_holdout"].iloc[0])
    actual = summary["frequency_holdout"].to_numpy(dtype=np.float64)
    predicted = model.conditional_expected_purchases(horizon, x, tx, big_t)
    naive = naive_purchases(x, big_t, horizon)
    bought = (actual > 0).astype(np.float64)
    p_any = model.prob_any_purchase(horizon, x, tx, big_t)
    p_alive = model.prob_alive(x, tx, big_t)
    reliability = reliability_table(p_any, bought)
    out = {
        "family": model.family,
        "weeks": horizon,
        "predicted_total": float(predicted.sum()),
        "actual_total": float(actual.sum()),
        "relative_difference": float(predicted.sum() / actual.sum() - 1.0),
        "mean_absolute_error": float(np.mean(np.abs(predicted - actual))),
        "correlation": _corr(predicted, actual),
        "naive_total": float(naive.sum()),
        "naive_mean_absolute_error": float(np.mean(np.abs(naive - actual))),
        "naive_correlation": _corr(naive, actual),
        "any_purchase": {
            "observed_share": float(bought.mean()),
            "mean_probability": float(p_any.mean()),
            "brier": float(np.mean((p_any - bought) ** 2)),
            "brier_base_rate": float(np.mean((bought.mean() - bought) ** 2)),
            "expected_calibration_error": float(
                sum(r["customers"] * abs(r["mean_predicted"] - r["observed"]) for r in reliability) / len(bought)
            ),
            "reliability": reliability,
        },
        "prob_alive_mean": float(p_alive.mean()),
    }
    if gg is not None and "amount_holdout" in summary:
        spend = cl.gamma_gamma_expected_spend(gg, x, summary["monetary_value"])
        value = predicted * spend
        naive_value = naive * summary["monetary_value"].to_numpy(dtype=np.float64)
        actual_value = summary["amount_holdout"].to_numpy(dtype=np.float64)
        out["spend"] = {
            "predicted_total": float(value.sum()),
            "actual_total": float(actual_value.sum()),
            "relative_difference": float(value.sum() / actual_value.sum() - 1.0),
            "mean_absolute_error": float(np.mean(np.abs(value - actual_value))),
            "naive_mean_absolute_error": float(np.mean(np.abs(naive_value - actual_value))),
            "correlation": _corr(value, actual_value),
        }
    return out
