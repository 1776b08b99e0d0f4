"""Quality figures of a probability forecast: discrimination, calibration, lift and gain.

Every figure the product reports about a churn or next-action model is computed by these functions on
snapshots the model did not train on (see empathy.predict.backtest).
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, log_loss, roc_auc_score


def _check(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    if y.shape != p.shape or y.ndim != 1:
        raise ValueError(f"labels and probabilities must be 1-D and the same length (got {y.shape} and {p.shape})")
    if np.isnan(p).any() or (p < 0).any() or (p > 1).any():
        raise ValueError("probabilities must be in [0, 1] without missing values")
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("labels must be 0 or 1")
    return y, p


def calibration_bins(y: np.ndarray, p: np.ndarray, bins: int = 10) -> list[dict]:
    """Equal-width probability bins: count, mean predicted probability and observed rate per non-empty bin."""
    y, p = _check(y, p)
    index = np.minimum((p * bins).astype(int), bins - 1)
    out = []
    for b in range(bins):
        mask = index == b
        n = int(mask.sum())
        if n:
            out.append(
                {
                    "bin": b + 1,
                    "lower": b / bins,
                    "upper": (b + 1) / bins,
                    "n": n,
                    "mean_predicted": float(p[mask].mean()),
                    "observed_rate": float(y[mask].mean()),
                }
            )
    return out


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """ECE: the count-weighted mean of |observed rate − mean predicted| over equal-width bins."""
    y, p = _check(y, p)
    table = calibration_bins(y, p, bins)
    return float(sum(row["n"] * abs(row["observed_rate"] - row["mean_predicted"]) for row in table) / len(y))


def decile_table(y: np.ndarray, p: np.ndarray, groups: int = 10) -> list[dict]:
    """Lift and cumulative gain by risk decile (decile 1 = the highest scores).

    Ties are broken by position after a stable sort, so deciles have equal sizes (±1).
    """
    y, p = _check(y, p)
    order = np.argsort(-p, kind="stable")
    ys = y[order]
    ps = p[order]
    base = y.mean() if len(y) else 0.0
    positives = y.sum()
    edges = np.linspace(0, len(y), groups + 1).round().astype(int)
    out = []
    captured = 0.0
    for g in range(groups):
        lo, hi = edges[g], edges[g + 1]
        if hi <= lo:
            continue
        rate = float(ys[lo:hi].mean())
        captured += float(ys[lo:hi].sum())
        out.append(
            {
                "decile": g + 1,
                "n": int(hi - lo),
                "mean_predicted": float(ps[lo:hi].mean()),
                "observed_rate": rate,
                "lift": rate / base if base > 0 else float("nan"),
                "cumulative_gain": captured / positives if positives > 0 else float("nan"),
            }
        )
    return out


def binary_summary(y: np.ndarray, p: np.ndarray, bins: int = 10) -> dict:
    """AUC, PR-AUC (average precision), Brier score, log loss, ECE, base rate and lift in the top decile.

    AUC and PR-AUC are NaN when only one class is present.
    """
    y, p = _check(y, p)
    both = 0 < y.sum() < len(y)
    deciles = decile_table(y, p)
    return {
        "n": len(y),
        "positives": int(y.sum()),
        "base_rate": float(y.mean()) if len(y) else float("nan"),
        "mean_predicted": float(p.mean()) if len(y) else float("nan"),
        "auc": float(roc_auc_score(y, p)) if both else float("nan"),
        "pr_auc": float(average_precision_score(y, p)) if both else float("nan"),
        "brier": float(np.mean((p - y) ** 2)) if len(y) else float("nan"),
        "log_loss": float(log_loss(y, np.clip(p, 1e-15, 1 - 1e-15), labels=[0, 1])) if len(y) else float("nan"),
        "ece": expected_calibration_error(y, p, bins) if len(y) else float("nan"),
        "top_decile_lift": deciles[0]["lift"] if deciles else float("nan"),
    }


def multiclass_summary(y: np.ndarray, proba: np.ndarray, classes: list[str]) -> dict:
    """Accuracy, multiclass log loss, macro one-vs-rest AUC (over classes present) and the majority baseline."""
    y = np.asarray(y)
    proba = np.asarray(proba, dtype=float)
    if proba.shape != (len(y), len(classes)):
        raise ValueError(f"probabilities must have shape (rows, classes) = ({len(y)}, {len(classes)})")
    index = {c: i for i, c in enumerate(classes)}
    codes = np.array([index[v] for v in y])
    aucs = {}
    for i, c in enumerate(classes):
        yi = (codes == i).astype(float)
        if 0 < yi.sum() < len(yi):
            aucs[c] = float(roc_auc_score(yi, proba[:, i]))
    counts = np.bincount(codes, minlength=len(classes))
    return {
        "n": len(y),
        "accuracy": float((proba.argmax(axis=1) == codes).mean()),
        "majority_accuracy": float(counts.max() / len(y)),
        "log_loss": float(log_loss(codes, np.clip(proba, 1e-15, 1), labels=list(range(len(classes))))),
        "macro_auc": float(np.mean(list(aucs.values()))) if aucs else float("nan"),
        "auc_by_class": aucs,
        "class_rates": {c: float(counts[i] / len(y)) for i, c in enumerate(classes)},
    }
