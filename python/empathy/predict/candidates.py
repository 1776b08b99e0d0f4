"""The churn model's candidates: three ways to turn a design matrix into a margin (log-odds before calibration).

* ``lightgbm``: gradient-boosted trees (empathy.predict.churn.CHURN_PARAMS), exported by empathy.predict.sql_export.
* ``logistic_binned``: an L2-regularised logistic regression on binned features: each number falls into one of up
  to ``bins`` quantile bins of the training rows (plus a bin for missing), each text level is its own bin; one
  weight per bin, so a curve in any number is allowed and the SQL is one CASE per feature.
* ``recency_baseline``: a logistic regression on log recency and frequency alone (days since the last order and
  the last engagement, orders in 365 days), the simple model every other one has to beat.

Every candidate gives the same three things: ``margin(X)``, ``parts(X)`` (per-feature contributions to the margin
and the base they add to, for explanations) and ``sql(columns)`` (the margin as one SQL expression over the
snapshot's columns, computed exactly as in Python), and is stored as text (``to_text`` / ``load``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.linear_model import LogisticRegression

from empathy.predict.sql_export import booster_to_sql, sql_number

CANDIDATES = ("lightgbm", "logistic_binned", "recency_baseline")
LOGISTIC_PARAMS = {"C": 0.3, "bins": 10, "max_iter": 2000}
RECENCY_FEATURES = ("days_since_order", "days_since_engagement", "orders_365d")


def _balanced_sum(terms: list[str]) -> str:
    if len(terms) == 1:
        return terms[0]
    middle = len(terms) // 2
    return f"({_balanced_sum(terms[:middle])} + {_balanced_sum(terms[middle:])})"


# -- gradient-boosted trees ----------------------------------------------------------------------------------------
@dataclass
class TreeMargin:
    booster: lgb.Booster
    name: str = "lightgbm"

    def margin(self, X: pd.DataFrame) -> np.ndarray:
        return self.booster.predict(X, raw_score=True)

    def parts(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        contrib = self.booster.predict(X, pred_contrib=True)
        return contrib[:, :-1], contrib[:, -1]

    def sql(self, columns: dict[str, str]) -> str:
        return booster_to_sql(self.booster, columns, output="raw")

    def importance(self, names: list[str]) -> dict[str, float]:
        return dict(zip(names, self.booster.feature_importance(importance_type="gain").tolist(), strict=True))

    def to_text(self) -> str:
        return self.booster.model_to_string()


# -- binned logistic regression ------------------------------------------------------------------------------------
@dataclass
class BinnedLogisticMargin:
    """Per feature: bin edges (numbers) or a level count (text codes 0..k-1), and one weight per bin.

    A number x falls in bin i when edges[i-1] <= x < edges[i] (bin 0 below the first edge, bin len(edges) at or
    above the last); a missing number has its own weight. A text code has its level's weight; a missing or unseen
    level the "other" weight. ``means`` are each feature's mean weight on the training rows: a row's contribution
    of a feature is its weight minus that mean, and the base is the intercept plus the means.
    """

    intercept: float
    numeric: dict[str, dict]
    categorical: dict[str, dict]
    name: str = "logistic_binned"

    def _weights(self, X: pd.DataFrame) -> pd.DataFrame:
        out = {}
        for feature, f in self.numeric.items():
            x = X[feature].to_numpy(dtype=float)
            w = np.asarray(f["weights"], dtype=float)[np.searchsorted(f["edges"], np.nan_to_num(x), side="right")]
            out[feature] = np.where(np.isnan(x), f["missing"], w)
        for feature, f in self.categorical.items():
            code = X[feature].to_numpy(dtype=float)
            known = ~np.isnan(code) & (code >= 0) & (code < len(f["weights"]))
            idx = np.where(known, np.nan_to_num(code), 0).astype(int)
            out[feature] = np.where(known, np.asarray(f["weights"], dtype=float)[idx], f["other"])
        return pd.DataFrame(out, index=X.index)

    def margin(self, X: pd.DataFrame) -> np.ndarray:
        terms = self._weights(X).to_numpy()
        return self.intercept + terms.sum(axis=1) if terms.size else np.full(len(X), self.intercept)

    def parts(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        weights = self._weights(X).reindex(columns=list(X.columns), fill_value=0.0)
        means = np.array([self._mean(c) for c in X.columns])
        return weights.to_numpy() - means, np.full(len(X), self.intercept + means.sum())

    def _mean(self, feature: str) -> float:
        f = self.numeric.get(feature) or self.categorical.get(feature)
        return float(f["mean"]) if f else 0.0

    def sql(self, columns: dict[str, str]) -> str:
        terms = [sql_number(self.intercept)]
        for feature, f in self.numeric.items():
            col = columns[feature]
            whens = [f"when {col} is null then {sql_number(f['missing'])}"]
            whens += [
                f"when {col} < {sql_number(e)} then {sql_number(w)}"
                for e, w in zip(f["edges"], f["weights"][:-1], strict=True)
            ]
            terms.append(f"(case {' '.join(whens)} else {sql_number(f['weights'][-1])} end)")
        for feature, f in self.categorical.items():
            whens = " ".join(f"when {i} then {sql_number(w)}" for i, w in enumerate(f["weights"]))
            terms.append(f"(case {columns[feature]} {whens} else {sql_number(f['other'])} end)")
        return _balanced_sum(terms)

    def importance(self, names: list[str]) -> dict[str, float]:
        """Spread of each feature's weights (max − min): how far it can move the log-odds."""
        out = {}
        for name in names:
            f = self.numeric.get(name) or self.categorical.get(name)
            if f:
                w = [*f["weights"], f.get("missing", f.get("other", 0.0))]
                out[name] = float(max(w) - min(w))
        return out

    def to_text(self) -> str:
        return json.dumps({"intercept": self.intercept, "numeric": self.numeric, "categorical": self.categorical})


def bin_edges(values: np.ndarray, bins: int) -> list[float]:
    """Quantile edges of the non-missing values (at most bins − 1, distinct); none for a constant column."""
    x = values[~np.isnan(values)]
    if x.size == 0:
        return []
    edges = np.unique(np.quantile(x, np.linspace(0, 1, bins + 1)[1:-1], method="lower"))
    return [float(e) for e in edges if e > x.min()]


def fit_binned_logistic(
    X: pd.DataFrame, y: np.ndarray, categorical: list[str], params: dict | None = None
) -> BinnedLogisticMargin:
    """Fit the binned logistic regression on a design matrix (text columns as codes, NaN when missing)."""
    p = LOGISTIC_PARAMS | (params or {})
    blocks, layout = [], []
    for name in X.columns:
        x = X[name].to_numpy(dtype=float)
        if name in categorical:
            k = int(np.nanmax(x)) + 1 if np.isfinite(x).any() else 0
            index = np.where(np.isnan(x), k, np.nan_to_num(x)).astype(int)  # k: missing or unseen
            size, edges = k + 1, None
        else:
            edges = bin_edges(x, int(p["bins"]))
            index = np.where(np.isnan(x), len(edges) + 1, np.searchsorted(edges, np.nan_to_num(x), side="right"))
            size = len(edges) + 2  # the bins and the missing bin
        blocks.append(sparse.csr_matrix((np.ones(len(x)), (np.arange(len(x)), index)), shape=(len(x), size)))
        layout.append((name, edges, size))
    design = sparse.hstack(blocks).tocsr()
    lr = LogisticRegression(C=float(p["C"]), max_iter=int(p["max_iter"])).fit(design, y)
    coef, start = lr.coef_[0], 0
    numeric, cats = {}, {}
    for (name, edges, size), block in zip(layout, blocks, strict=True):
        w = coef[start : start + size]
        mean = float(block.multiply(w).sum() / block.shape[0])
        if edges is None:
            cats[name] = {"weights": [float(v) for v in w[:-1]], "other": float(w[-1]), "mean": mean}
        else:
            numeric[name] = {
                "edges": edges,
                "weights": [float(v) for v in w[:-1]],
                "missing": float(w[-1]),
                "mean": mean,
            }
        start += size
    return BinnedLogisticMargin(float(lr.intercept_[0]), numeric, cats)


# -- recency/frequency baseline ------------------------------------------------------------------------------------
@dataclass
class RecencyMargin:
    """Log-odds = intercept + sum of w · ln(1 + max(x, 0)), a missing recency counting as 366 days."""

    intercept: float
    weights: dict[str, float]
    name: str = "recency_baseline"

    @staticmethod
    def inputs(X: pd.DataFrame) -> pd.DataFrame:
        out = {}
        for name in RECENCY_FEATURES:
            if name in X.columns:
                v = X[name].to_numpy(dtype=float)
                v = np.where(np.isnan(v), 366.0 if name.startswith("days_since") else 0.0, v)
            else:
                v = np.zeros(len(X))
            out[name] = np.log1p(np.maximum(v, 0.0))
        return pd.DataFrame(out, index=X.index)

    def margin(self, X: pd.DataFrame) -> np.ndarray:
        return self.intercept + self.inputs(X).to_numpy() @ np.array([self.weights[n] for n in RECENCY_FEATURES])

    def parts(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        terms = self.inputs(X) * pd.Series(self.weights)
        frame = terms.reindex(columns=list(X.columns), fill_value=0.0)
        return frame.to_numpy(), np.full(len(X), self.intercept)

    def sql(self, columns: dict[str, str]) -> str:
        terms = [sql_number(self.intercept)]
        for name in RECENCY_FEATURES:
            fill = "3.66e2" if name.startswith("days_since") else "0e0"
            x = f"coalesce({columns[name]}, {fill})" if name in columns else "0e0"
            terms.append(f"{sql_number(self.weights[name])} * ln(1e0 + greatest({x}, 0e0))")
        return _balanced_sum(terms)

    def importance(self, names: list[str]) -> dict[str, float]:
        return {n: abs(w) for n, w in self.weights.items() if n in names}

    def to_text(self) -> str:
        return json.dumps({"intercept": self.intercept, "weights": self.weights})


def fit_recency(X: pd.DataFrame, y: np.ndarray) -> RecencyMargin:
    lr = LogisticRegression(max_iter=1000).fit(RecencyMargin.inputs(X), y)
    weights = {n: float(w) for n, w in zip(RECENCY_FEATURES, lr.coef_[0], strict=True)}
    return RecencyMargin(float(lr.intercept_[0]), weights)


# -- loading ---------------------------------------------------------------------------------------------------------
def load(candidate: str, text: str):
    """A stored candidate (its `to_text`) back as a margin model."""
    if candidate == "lightgbm":
        return TreeMargin(lgb.Booster(model_str=text))
    raw = json.loads(text)
    if candidate == "logistic_binned":
        return BinnedLogisticMargin(raw["intercept"], raw["numeric"], raw["categorical"])
    if candidate == "recency_baseline":
        return RecencyMargin(raw["intercept"], raw["weights"])
    raise ValueError(f"unknown churn candidate {candidate!r}; expected one of {CANDIDATES}")


def negatives_to_keep(ids: list[str], y: np.ndarray, per_positive: int) -> np.ndarray:
    """A mask keeping every churner and, when stayers outnumber them more than `per_positive` to one, a
    deterministic sample of stayers (by a hash of the row id) of about `per_positive` per churner."""
    positives = int(y.sum())
    negatives = len(y) - positives
    if positives == 0 or negatives <= per_positive * positives:
        return np.ones(len(y), dtype=bool)
    share = per_positive * positives / negatives
    u = pd.util.hash_array(np.asarray(ids, dtype=object)) / float(2**64)
    return (y == 1) | (u < share)


def is_finite_model(model) -> bool:
    """True when every stored number of a linear candidate is finite (a tree model always is)."""
    if isinstance(model, TreeMargin):
        return True
    return all(math.isfinite(v) for v in _numbers(json.loads(model.to_text())))


def _numbers(obj):
    if isinstance(obj, dict):
        for v in obj.values():
            yield from _numbers(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _numbers(v)
    elif isinstance(obj, float | int):
        yield float(obj)
