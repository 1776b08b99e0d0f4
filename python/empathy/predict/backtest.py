"""Rolling-origin backtests: retrain as of several past dates and score the snapshot of that date.

For an origin o (a past snapshot date whose churn label is complete today) the data is cut at o − 1: the
training and calibration snapshots are the ones whose labels were complete by then (`training_window`), the
model is trained and calibrated exactly as in production, and it scores the customers eligible on o. The
figures compare those scores with what happened after o. No origin's outcome is seen by its model.

Every churn candidate (empathy.predict.candidates: LightGBM, the binned logistic regression, the recency/frequency
baseline) is trained on the same rows at each origin, so their figures compare like with like (column
`candidate`); empathy.predict.selection chooses among them by these figures.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from empathy.predict import candidates as cd
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
        ("candidate", pa.string()),
        ("evaluation", pa.string()),
        ("section", pa.string()),
        ("bin", pa.int32()),
        ("metric", pa.string()),
        ("value", pa.float64()),
    ]
)


def _rows_on(rows: pa.Table, dates: tuple[date, ...] | list[date]) -> pa.Table:
    return rows.filter(pc.is_in(rows["snapshot_date"], pa.array(list(dates), pa.date32())))


def _labels(rows: pa.Table) -> np.ndarray:
    return np.asarray(rows["is_churned"].to_numpy(zero_copy_only=False), dtype=float)


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


def binary_rows(y: np.ndarray, p: np.ndarray) -> list[tuple[str, int, str, float]]:
    """(section, bin, metric, value) rows of a churn forecast: summary, calibration bins and deciles."""
    out = [("summary", 0, k, float(v)) for k, v in binary_summary(y, p).items()]
    for row in calibration_bins(y, p):
        for k in ("n", "mean_predicted", "observed_rate"):
            out.append(("calibration", row["bin"], k, float(row[k])))
    for row in decile_table(y, p):
        for k in ("n", "mean_predicted", "observed_rate", "lift", "cumulative_gain"):
            out.append(("decile", row["decile"], k, float(row[k])))
    return out


def figure_records(common: dict, model_name: str, candidate: str | None, rows: list) -> list[dict]:
    """BACKTEST_SCHEMA records of one model (and candidate) at one origin."""
    tag = f"{model_name}:{candidate}" if candidate else model_name
    return [
        common
        | {
            "backtest_row_id": f"{common['model_version']}:{tag}:{common['origin_date']}:{section}:{b}:{metric}",
            "model_name": model_name,
            "candidate": candidate,
            "section": section,
            "bin": b,
            "metric": metric,
            "value": value,
        }
        for section, b, metric, value in rows
    ]


def _next_action_rows(rows: pa.Table, window: ch.Window, test: pa.Table, spec, params, threads) -> list | None:
    fit_rows = _rows_on(rows, [*window.train_dates, window.calibration_date])
    actions = np.asarray(fit_rows["next_action"].to_pylist())
    if len(set(actions)) < 2:
        return None
    na = ch.fit_next_action(fit_rows, actions, spec, params, threads=threads)
    summary = multiclass_summary(
        np.asarray(test["next_action"].to_pylist()), ch.next_action_probabilities(na, test), list(ch.NEXT_ACTIONS)
    )
    flat = [("summary", 0, k, float(v)) for k, v in summary.items() if not isinstance(v, dict)]
    for j, action in enumerate(ch.NEXT_ACTIONS):
        if action in summary["auc_by_class"]:
            flat.append(("class", j + 1, f"auc_{action}", summary["auc_by_class"][action]))
        flat.append(("class", j + 1, f"rate_{action}", summary["class_rates"][action]))
    return flat


def run_backtests(
    rows: pa.Table,
    *,
    model_version: str,
    horizon_days: int,
    origins: int,
    min_first_date: date | None,
    spec: ch.FeatureSpec,
    candidates: dict[str, dict] | None = None,
    next_action_params: dict | None = None,
    threads: int = 2,
    progress=None,
) -> pa.Table:
    """Backtest rows (BACKTEST_SCHEMA) for every churn candidate and the next-action model.

    `rows` are labelled grid snapshots (int_customer_snapshots joined to int_customer_snapshot_outcomes,
    complete labels only); `candidates` maps each candidate to its hyperparameters (default: every candidate
    with its defaults). Origins without enough earlier history are skipped; none at all gives an empty table.
    """
    candidates = candidates or {c: ch.candidate_params(c) for c in cd.CANDIDATES}
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
            "evaluation": "out_of_time",
        }
        try:
            models = {
                c: ch.fit_churn(train, y_train, cal, y_cal, spec=spec, params=p, threads=threads)
                for c, p in candidates.items()
            }
        except ch.NotEnoughHistory:
            continue
        for candidate, model in models.items():
            records += figure_records(
                common, "churn", candidate, binary_rows(y_test, ch.churn_probability(model, test))
            )
        if "next_action" in rows.column_names:
            flat = _next_action_rows(rows, window, test, spec, next_action_params, threads)
            if flat is not None:
                records += figure_records(common, "next_action", None, flat)
    return pa.Table.from_pylist(records, schema=BACKTEST_SCHEMA)
