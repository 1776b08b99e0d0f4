"""Rolling-origin backtests: retrain as of several past dates and score the snapshot of that date.

For an origin o (a past snapshot date whose churn label is complete today) the data is cut at o − 1: the
training and calibration snapshots are the ones whose labels were complete by then (`training_window`), the
model is trained and calibrated exactly as in production, and it scores the customers eligible on o. The
figures compare those scores with what happened after o. No origin's outcome is seen by its model.

Each origin also fits a baseline: a logistic regression on recency and frequency alone (days since the last
order and the last engagement, orders in 365 days), so the gain of the full model is visible.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sklearn.linear_model import LogisticRegression

from empathy.predict import churn as ch
from empathy.predict.metrics import binary_summary, calibration_bins, decile_table, multiclass_summary

BACKTEST_SCHEMA = pa.schema(
    [
        ("backtest_row_id", pa.string()),
        ("model_version", pa.string()),
        ("model_name", pa.string()),
        ("origin_date", pa.date32()),
        ("training_start_date", pa.date32()),
        ("training_end_date", pa.date32()),
        ("calibration_date", pa.date32()),
        ("section", pa.string()),
        ("bin", pa.int32()),
        ("metric", pa.string()),
        ("value", pa.float64()),
    ]
)
BASELINE_FEATURES = ("days_since_order", "days_since_engagement", "orders_365d")


def _rows_on(rows: pa.Table, dates: tuple[date, ...] | list[date]) -> pa.Table:
    return rows.filter(pc.is_in(rows["snapshot_date"], pa.array(list(dates), pa.date32())))


def _labels(rows: pa.Table) -> np.ndarray:
    return np.asarray(rows["is_churned"].to_numpy(zero_copy_only=False), dtype=float)


def baseline_matrix(rows: pa.Table) -> np.ndarray:
    """Recency/frequency inputs of the baseline (a missing recency counts as 366 days), log-scaled."""
    cols = []
    for name in BASELINE_FEATURES:
        if name in rows.column_names:
            v = rows[name].cast(pa.float64()).to_numpy(zero_copy_only=False)
            v = np.where(np.isnan(v), 366.0 if name.startswith("days_since") else 0.0, v)
        else:
            v = np.zeros(rows.num_rows)
        cols.append(np.log1p(np.maximum(v, 0)))
    return np.column_stack(cols)


def fit_baseline(rows: pa.Table, y: np.ndarray) -> LogisticRegression:
    return LogisticRegression(max_iter=1000).fit(baseline_matrix(rows), y)


def origins_with_windows(
    snapshot_dates: list[date], horizon_days: int, min_first_date: date | None, count: int
) -> list[tuple[date, ch.Window]]:
    """The latest `count` origins (labelled snapshot dates) that leave a training window, newest first."""
    out = []
    for origin in sorted(set(snapshot_dates), reverse=True):
        try:
            window = ch.training_window(snapshot_dates, origin - timedelta(days=1), horizon_days, min_first_date)
        except ch.NotEnoughHistory:
            continue
        out.append((origin, window))
        if len(out) == count:
            break
    return out


def _binary_rows(model_name: str, y: np.ndarray, p: np.ndarray) -> list[tuple[str, int, str, float]]:
    out = [("summary", 0, k, float(v)) for k, v in binary_summary(y, p).items()]
    for row in calibration_bins(y, p):
        for k in ("n", "mean_predicted", "observed_rate"):
            out.append(("calibration", row["bin"], k, float(row[k])))
    for row in decile_table(y, p):
        for k in ("n", "mean_predicted", "observed_rate", "lift", "cumulative_gain"):
            out.append(("decile", row["decile"], k, float(row[k])))
    return out


def run_backtests(
    rows: pa.Table,
    *,
    model_version: str,
    horizon_days: int,
    origins: int,
    min_first_date: date | None,
    spec: ch.FeatureSpec,
    churn_params: dict | None = None,
    next_action_params: dict | None = None,
    threads: int = 2,
    progress=None,
) -> pa.Table:
    """Backtest rows (BACKTEST_SCHEMA) for churn, the recency/frequency baseline and the next-action model.

    `rows` are labelled grid snapshots (int_customer_snapshots joined to int_customer_snapshot_outcomes,
    complete labels only). Origins without enough earlier history are skipped; none at all gives an empty table.
    """
    dates = sorted(set(rows["snapshot_date"].to_pylist()))
    records: list[dict] = []
    for i, (origin, window) in enumerate(origins_with_windows(dates, horizon_days, min_first_date, origins)):
        if progress:
            progress(f"backtest origin {origin} ({i + 1}/{origins})")
        train = _rows_on(rows, window.train_dates)
        cal = _rows_on(rows, [window.calibration_date])
        test = _rows_on(rows, [origin])
        y_train, y_cal, y_test = _labels(train), _labels(cal), _labels(test)
        common = {
            "model_version": model_version,
            "origin_date": origin,
            "training_start_date": window.train_dates[0],
            "training_end_date": window.train_dates[-1],
            "calibration_date": window.calibration_date,
        }
        results: list[tuple[str, list[tuple[str, int, str, float]]]] = []
        try:
            model = ch.fit_churn(train, y_train, cal, y_cal, spec=spec, params=churn_params, threads=threads)
        except ch.NotEnoughHistory:
            continue
        results.append(("churn", _binary_rows("churn", y_test, ch.churn_probability(model, test))))
        base = fit_baseline(train, y_train)
        results.append(
            (
                "churn_baseline_recency",
                _binary_rows("baseline", y_test, base.predict_proba(baseline_matrix(test))[:, 1]),
            )
        )
        if "next_action" in rows.column_names:
            fit_rows = _rows_on(rows, [*window.train_dates, window.calibration_date])
            actions = np.asarray(fit_rows["next_action"].to_pylist())
            if len(set(actions)) >= 2:
                na = ch.fit_next_action(fit_rows, actions, spec, next_action_params, threads=threads)
                summary = multiclass_summary(
                    np.asarray(test["next_action"].to_pylist()),
                    ch.next_action_probabilities(na, test),
                    list(ch.NEXT_ACTIONS),
                )
                flat = [("summary", 0, k, float(v)) for k, v in summary.items() if not isinstance(v, dict)]
                for j, action in enumerate(ch.NEXT_ACTIONS):
                    if action in summary["auc_by_class"]:
                        flat.append(("class", j + 1, f"auc_{action}", summary["auc_by_class"][action]))
                    flat.append(("class", j + 1, f"rate_{action}", summary["class_rates"][action]))
                results.append(("next_action", flat))
        for model_name, metric_rows in results:
            for section, b, metric, value in metric_rows:
                records.append(
                    common
                    | {
                        "backtest_row_id": f"{model_version}:{model_name}:{origin}:{section}:{b}:{metric}",
                        "model_name": model_name,
                        "section": section,
                        "bin": b,
                        "metric": metric,
                        "value": value,
                    }
                )
    return pa.Table.from_pylist(records, schema=BACKTEST_SCHEMA)
