"""Churn and next-action models on point-in-time snapshots (int_customer_snapshots + int_customer_snapshot_outcomes).

* Features: every column of int_customer_snapshots except the keys and flags in META_COLUMNS. Numbers are
  features as they are; text columns (segment, plan, lifecycle stage, bring-your-own categorical columns) are
  categorical features whose levels are learnt on the training rows (the most frequent MAX_LEVELS; others and
  missing go to LightGBM's "other" side). The FeatureSpec records this so that the SQL export, the Python
  scorer and a later build encode a row identically.
* Churn: a candidate (empathy.predict.candidates: LightGBM, a binned logistic regression or the recency baseline)
  trained on snapshots up to one step before the calibration snapshot, then Platt-scaled on the calibration
  snapshot (a later time slice, or held-out customers): p = sigmoid(a · margin + b).
* Next action: a LightGBM multiclass model of the first action in the next-action window (churn, complain,
  contact support, purchase, none), on the same snapshots.
* Time windows: `training_window` picks, for a moment when the data ends at `data_end`, which snapshots have
  complete labels, which one calibrates, and which train. Production training and every backtest origin use it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, timedelta

import lightgbm as lgb
import numpy as np
import pandas as pd
import pyarrow as pa
from sklearn.linear_model import LogisticRegression

from empathy.predict import candidates as cd
from empathy.state.model import DRIVERS as STATE_DRIVERS

META_COLUMNS = frozenset(
    {
        "customer_snapshot_id",
        "customer_id",
        "snapshot_date",
        "feature_date",
        "is_scoring_snapshot",
        "is_grid_snapshot",
        "history_days",
        "is_eligible",
    }
)
MAX_LEVELS = 30
NEXT_ACTIONS = ("churn", "complain", "contact_support", "purchase", "none")

# Shared by both models: shallow trees, row and column subsampling, a little L2, deterministic.
_TREE_PARAMS: dict = {
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_data_in_leaf": 50,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "max_cat_to_onehot": 8,
    "seed": 7,
    "deterministic": True,
    "force_row_wise": True,
    "verbose": -1,
}
# Same rows, same trees: LightGBM otherwise picks row- or column-wise histograms by timing them on each fit.
_DETERMINISTIC = {"deterministic": True, "force_row_wise": True}
CHURN_PARAMS: dict = {"objective": "binary", **_TREE_PARAMS, "num_boost_round": 250}
NEXT_ACTION_PARAMS: dict = {
    "objective": "multiclass",
    "num_class": len(NEXT_ACTIONS),
    **_TREE_PARAMS,
    "num_boost_round": 150,
}

# Driver groups of the churn explanations: the state model's groups plus what only churn sees.
EXTRA_DRIVERS: list[tuple[str, str, tuple[str, ...]]] = [
    (
        "subscription",
        "subscription and price",
        (
            "contract_type",
            "active_subscriptions",
            "subscription_monthly_amount_usd",
            "subscription_tenure_days",
            "days_since_price_change",
            "last_price_change_share",
            "subscription_plan",
        ),
    ),
    (
        "consent",
        "marketing consent",
        ("has_email_marketing_consent", "has_sms_marketing_consent", "has_profiling_consent"),
    ),
    ("profile", "customer profile", ("segment", "acquisition_channel", "company_size", "industry", "has_email")),
]
DRIVER_LABELS = {name: label for name, label, *_ in STATE_DRIVERS} | {name: label for name, label, _ in EXTRA_DRIVERS}
DRIVER_OF_FEATURE = {f: name for name, _, feats, *_ in STATE_DRIVERS for f in feats} | {
    f: name for name, _, feats in EXTRA_DRIVERS for f in feats
}


def driver_of(feature: str) -> str:
    """The explanation group of a feature; bring-your-own columns are 'profile', others their own name."""
    if feature in DRIVER_OF_FEATURE:
        return DRIVER_OF_FEATURE[feature]
    if feature.startswith("byo_subscription__"):
        return "subscription"
    if feature.startswith("byo__"):
        return "profile"
    return feature


class NotEnoughHistory(Exception):
    """Too few labelled snapshots (or positives) to train or backtest."""


# -- features -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FeatureSpec:
    """Which columns are features and how text columns are encoded (level → integer code)."""

    numeric: tuple[str, ...]
    categorical: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return [*self.numeric, *self.categorical]

    def to_json(self) -> str:
        return json.dumps(
            {"numeric": list(self.numeric), "categorical": {k: list(v) for k, v in self.categorical.items()}}
        )

    @classmethod
    def from_json(cls, text: str) -> FeatureSpec:
        raw = json.loads(text)
        return cls(tuple(raw["numeric"]), {k: tuple(v) for k, v in raw["categorical"].items()})

    def fingerprint(self) -> str:
        """A hash of the feature names and kinds (not the levels): a change means new columns arrived."""
        text = json.dumps([sorted(self.numeric), sorted(self.categorical)])
        return hashlib.sha256(text.encode()).hexdigest()[:12]


def infer_spec(rows: pa.Table) -> FeatureSpec:
    """Features of a snapshot table: numeric and boolean columns, and text columns with their top levels."""
    numeric: list[str] = []
    categorical: dict[str, tuple[str, ...]] = {}
    for name, column in zip(rows.column_names, rows.columns, strict=True):
        if name in META_COLUMNS:
            continue
        t = column.type
        if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t) or pa.types.is_decimal(t):
            numeric.append(name)
        elif pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_dictionary(t):
            counts = pd.Series(column.to_pandas()).value_counts(dropna=True)
            ranked = sorted(((str(v), int(n)) for v, n in counts.items()), key=lambda vn: (-vn[1], vn[0]))
            levels = tuple(v for v, _ in ranked[:MAX_LEVELS])  # ties by name: the same levels in any row order
            if levels:
                categorical[name] = levels
    if not numeric and not categorical:
        raise ValueError("int_customer_snapshots has no feature columns (expected numeric or text columns)")
    return FeatureSpec(tuple(numeric), categorical)


def design_matrix(rows: pa.Table, spec: FeatureSpec) -> pd.DataFrame:
    """The model's input frame in spec order: float64, categorical levels as codes 0..k-1, NaN when missing.

    A column of the spec that is absent from `rows` is an error naming it (the snapshot table lost a column
    the model was trained on: retrain with `--full-refresh` of int_model_registry or restore the column).
    """
    missing = [c for c in spec.names if c not in rows.column_names]
    if missing:
        raise ValueError(
            f"int_customer_snapshots lacks feature columns the model was trained on: {', '.join(missing)}; "
            "restore them or retrain (dbt build --full-refresh -s int_model_registry)"
        )
    data = {}
    for name in spec.numeric:
        values = rows[name]
        if pa.types.is_boolean(values.type):
            values = values.cast(pa.int8())
        data[name] = values.cast(pa.float64()).to_numpy(zero_copy_only=False)
    for name, levels in spec.categorical.items():
        codes = pd.Categorical(rows[name].cast(pa.string()).to_pandas(), categories=list(levels)).codes
        data[name] = np.where(codes < 0, np.nan, codes.astype(float))
    return pd.DataFrame(data, columns=spec.names)


def sql_feature_columns(spec: FeatureSpec) -> dict[str, str]:
    """SQL expressions of the features over int_customer_snapshots' columns (categorical levels → codes)."""

    def literal(text: str) -> str:
        return "'" + text.replace("'", "''") + "'"

    columns = {name: name for name in spec.numeric}
    for name, levels in spec.categorical.items():
        whens = " ".join(f"when {literal(level)} then {i}" for i, level in enumerate(levels))
        columns[name] = f"(case {name} {whens} end)"
    return columns


# -- time windows -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Window:
    train_dates: tuple[date, ...]
    calibration_date: date


def training_window(
    snapshot_dates: list[date], data_end: date, horizon_days: int, min_first_date: date | None = None
) -> Window:
    """Which grid snapshots train and calibrate a model when the data ends on `data_end` (inclusive).

    A snapshot t has a complete label when t + H − 1 ≤ data_end. The latest such snapshot calibrates; the
    earlier ones (from `min_first_date`, the first with enough history) train. Raises NotEnoughHistory when
    fewer than one training snapshot remains.
    """
    complete = sorted(d for d in set(snapshot_dates) if d + timedelta(days=horizon_days - 1) <= data_end)
    if min_first_date is not None:
        complete = [d for d in complete if d >= min_first_date]
    if len(complete) < 2:
        raise NotEnoughHistory(
            f"{len(complete)} snapshot(s) with a complete {horizon_days}-day label by {data_end}; need at least 2 "
            "(one to train, one to calibrate): more history is needed"
        )
    return Window(tuple(complete[:-1]), complete[-1])


# -- churn --------------------------------------------------------------------------------------------------------
NEGATIVES_PER_POSITIVE = 20  # rare churn: stayers beyond 20 per churner are sampled out; Platt restores the rate


@dataclass
class ChurnModel:
    """A candidate's margin model (empathy.predict.candidates) with its Platt calibration."""

    margin_model: object
    spec: FeatureSpec
    calibration: tuple[float, float]
    params: dict
    n_train: int
    n_calibration: int
    train_positive_rate: float

    @property
    def candidate(self) -> str:
        return self.margin_model.name

    @property
    def booster(self) -> lgb.Booster:
        """The LightGBM booster of a `lightgbm` candidate (an error for the others)."""
        if not isinstance(self.margin_model, cd.TreeMargin):
            raise TypeError(f"the {self.candidate} churn candidate has no booster")
        return self.margin_model.booster


def _lgb_train(params: dict, X: pd.DataFrame, y: np.ndarray, categorical: list[str], threads: int) -> lgb.Booster:
    p = {k: v for k, v in params.items() if k not in ("num_boost_round", "candidate")}
    p |= {"num_threads": threads, **_DETERMINISTIC}
    data = lgb.Dataset(X, label=y, categorical_feature=categorical or "auto", free_raw_data=True)
    return lgb.train(p, data, num_boost_round=int(params["num_boost_round"]))


def platt(margin: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Platt scaling on a later slice: (a, b) with p = sigmoid(a · margin + b), by (almost) unpenalised MLE."""
    if len(np.unique(y)) < 2:
        return 1.0, 0.0
    lr = LogisticRegression(C=1e6, max_iter=1000)
    lr.fit(margin.reshape(-1, 1), y)
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def candidate_params(candidate: str) -> dict:
    """The default hyperparameters of a churn candidate, with its name under "candidate"."""
    if candidate == "lightgbm":
        return dict(CHURN_PARAMS)
    if candidate == "logistic_binned":
        return {"candidate": candidate, **cd.LOGISTIC_PARAMS}
    if candidate == "recency_baseline":
        return {"candidate": candidate}
    raise ValueError(f"unknown churn candidate {candidate!r}; expected one of {cd.CANDIDATES}")


def _fit_margin(candidate: str, X: pd.DataFrame, y: np.ndarray, spec: FeatureSpec, params: dict, threads: int):
    if candidate == "lightgbm":
        return cd.TreeMargin(_lgb_train(params, X, y, list(spec.categorical), threads))
    if candidate == "logistic_binned":
        return cd.fit_binned_logistic(X, y, list(spec.categorical), params)
    return cd.fit_recency(X, y)


def fit_churn(
    train: pa.Table,
    y_train: np.ndarray,
    calibrate: pa.Table,
    y_calibrate: np.ndarray,
    spec: FeatureSpec | None = None,
    params: dict | None = None,
    threads: int = 2,
) -> ChurnModel:
    """Train a candidate (params["candidate"], default LightGBM) on `train`, Platt-scale it on `calibrate`.

    When stayers outnumber churners more than NEGATIVES_PER_POSITIVE to one, a deterministic sample of stayers
    trains (every churner is kept); the calibration slice is used whole, so the probabilities are of the real rate.
    """
    if y_train.sum() < 10 or (1 - y_train).sum() < 10:
        raise NotEnoughHistory(f"churn training set has {int(y_train.sum())} churners of {len(y_train)}; need 10+")
    params = dict(CHURN_PARAMS if params is None else params)
    candidate = params.get("candidate", "lightgbm")
    spec = spec or infer_spec(train)
    keep = cd.negatives_to_keep(train["customer_snapshot_id"].to_pylist(), y_train, NEGATIVES_PER_POSITIVE)
    X = design_matrix(train, spec)[keep].reset_index(drop=True)
    margin_model = _fit_margin(candidate, X, y_train[keep], spec, params, threads)
    margin = margin_model.margin(design_matrix(calibrate, spec))
    return ChurnModel(
        margin_model, spec, platt(margin, y_calibrate), params, len(y_train), len(y_calibrate), float(y_train.mean())
    )


def churn_margin(model: ChurnModel, rows: pa.Table) -> np.ndarray:
    return model.margin_model.margin(design_matrix(rows, model.spec))


def churn_probability(model: ChurnModel, rows: pa.Table) -> np.ndarray:
    a, b = model.calibration
    return sigmoid(a * churn_margin(model, rows) + b)


def churn_contributions(model: ChurnModel, rows: pa.Table) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Per-row churn contributions in probability points, summed per driver group.

    The candidate gives exact contributions to the margin (log-odds): TreeSHAP for LightGBM, each feature's
    weight minus its mean weight for the logistic candidates. They are mapped to probability by sharing
    p − p₀ (p₀ = the calibrated probability at the base margin) in proportion to each calibrated
    log-odds contribution; when the log-odds move is tiny, the local slope p(1 − p) is used instead. The
    groups of a row then sum to p − p₀ exactly. Returns (groups frame, probability, p₀ per row).
    """
    a, b = model.calibration
    feature_part, base_margin = model.margin_model.parts(design_matrix(rows, model.spec))
    margin = feature_part.sum(axis=1) + base_margin
    p = sigmoid(a * margin + b)
    p0 = sigmoid(a * base_margin + b)
    logit_part = a * feature_part
    total = logit_part.sum(axis=1)
    safe = np.abs(total) > 1e-9
    scale = np.where(safe, (p - p0) / np.where(safe, total, 1.0), p * (1 - p))
    points = logit_part * scale[:, None] * 100.0
    names = [driver_of(f) for f in model.spec.names]
    groups = pd.DataFrame(points, columns=model.spec.names).T.groupby(names).sum().T
    return groups, p, p0


# -- next action --------------------------------------------------------------------------------------------------
@dataclass
class NextActionModel:
    booster: lgb.Booster
    spec: FeatureSpec
    params: dict
    n_train: int


def fit_next_action(
    train: pa.Table, actions: np.ndarray, spec: FeatureSpec, params: dict | None = None, threads: int = 2
) -> NextActionModel:
    """A multiclass model of the next action (NEXT_ACTIONS order)."""
    index = {a: i for i, a in enumerate(NEXT_ACTIONS)}
    unknown = sorted(set(actions) - set(index))
    if unknown:
        raise ValueError(f"unknown next actions {unknown}; expected {NEXT_ACTIONS}")
    y = np.array([index[a] for a in actions])
    params = dict(NEXT_ACTION_PARAMS if params is None else params)
    booster = _lgb_train(params, design_matrix(train, spec), y, list(spec.categorical), threads)
    return NextActionModel(booster, spec, params, len(y))


def next_action_probabilities(model: NextActionModel, rows: pa.Table) -> np.ndarray:
    return model.booster.predict(design_matrix(rows, model.spec))
