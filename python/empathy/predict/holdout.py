"""Out-of-time churn scores with their outcomes, per customer: what the fairness audit judges churn errors on.

The current churn version (its features and hyperparameters) is retrained as of the latest backtest origin (the
latest labelled grid snapshot date that leaves a training window before it, as in `empathy.predict.backtest`)
and scores the customers eligible on that date. Every row's label window is complete and no row's outcome was
seen by the model that scored it: never the training rows' in-sample fit. A version judged on a customer holdout
(too little history for a time split, empathy.predict.selection) is not retrained: it scores its evaluation
customers at its calibration snapshot, customers it neither trained nor was calibrated on.
"""

from __future__ import annotations

import json

import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from empathy import status
from empathy.predict import backtest as bt
from empathy.predict import churn as ch
from empathy.predict import selection as sel
from empathy.predict.warehouse import _arrow, labelled_rows, load_churn

HOLDOUT_SCHEMA = pa.schema(
    [
        ("customer_snapshot_id", pa.string()),
        ("customer_id", pa.string()),
        ("origin_date", pa.date32()),
        ("model_version", pa.string()),
        ("churn_probability", pa.float64()),
        ("is_churned", pa.bool_()),
    ]
)
COMPONENT = "churn_holdout"


def _skip(reason: str, counts: dict | None = None) -> pa.Table:
    status.report(
        COMPONENT,
        "skipped",
        reason,
        counts=counts,
        fix="more history: the churn horizon plus about 6 weeks of labelled snapshots before the origin",
    )
    return HOLDOUT_SCHEMA.empty_table()


def holdout_scores(
    registry: ir.Table, snapshots: ir.Table, outcomes: ir.Table, *, min_history_days: int = 90, threads: int = 2
) -> pa.Table:
    """HOLDOUT_SCHEMA rows: the current churn version retrained before the latest origin, scoring that origin."""
    versions = sorted(
        (r for r in _arrow(registry).to_pylist() if r["model_name"] == "churn"), key=lambda r: r["version_number"]
    )
    if not versions:
        return _skip("no churn model version (see int_model_registry's status for why)")
    current = versions[-1]
    rows = labelled_rows(snapshots, outcomes, min_history_days)
    if current.get("evaluation") == sel.CUSTOMER_HOLDOUT:
        return _customer_holdout_scores(current, rows)
    dates = sorted(set(rows["snapshot_date"].to_pylist()))
    origins = bt.origins_with_windows(dates, int(current["horizon_days"]), None, 1)
    counts = {"labelled_snapshot_dates": len(dates), "model_version": current["model_version"]}
    if not origins:
        return _skip(
            f"no labelled snapshot date has two labelled snapshot dates before it ({len(dates)} in all)", counts
        )
    origin, window = origins[0]
    train, cal = bt._rows_on(rows, window.train_dates), bt._rows_on(rows, [window.calibration_date])
    test = bt._rows_on(rows, [origin])
    try:
        model = ch.fit_churn(
            train,
            bt._labels(train),
            cal,
            bt._labels(cal),
            spec=ch.FeatureSpec.from_json(current["features"]),
            params=json.loads(current["hyperparameters"]),
            threads=threads,
        )
    except ch.NotEnoughHistory as exc:
        return _skip(f"the model could not be retrained before {origin}: {exc}", counts)
    probability = ch.churn_probability(model, test)
    status.report(
        COMPONENT,
        "ok",
        f"{test.num_rows:,} customers scored out of time on {origin} by a model trained and calibrated on "
        f"snapshots up to {window.calibration_date} (labels complete before {origin})",
        counts=counts | {"origin_date": str(origin), "rows": test.num_rows},
    )
    return _holdout_table(test, current["model_version"], probability)


def _holdout_table(test: pa.Table, model_version: str, probability) -> pa.Table:
    """HOLDOUT_SCHEMA rows: each held-out snapshot with its score and whether the customer churned."""
    return pa.table(
        {
            "customer_snapshot_id": test["customer_snapshot_id"],
            "customer_id": test["customer_id"],
            "origin_date": test["snapshot_date"],
            "model_version": pa.array([model_version] * test.num_rows, pa.string()),
            "churn_probability": pa.array(np.asarray(probability, dtype=float), pa.float64()),
            "is_churned": pa.array(bt._labels(test).astype(bool), pa.bool_()),
        },
        schema=HOLDOUT_SCHEMA,
    )


def _customer_holdout_scores(current: dict, rows: pa.Table) -> pa.Table:
    """The current version's scores of its evaluation customers (its holdout) at its calibration snapshot."""
    on_date = rows.filter(pc.equal(rows["snapshot_date"], pa.scalar(current["calibration_date"], pa.date32())))
    test = on_date.filter(pa.array(sel.customer_part(on_date["customer_id"].to_pylist()) == "evaluate"))
    if test.num_rows == 0:
        return _skip(f"no evaluation customer on {current['calibration_date']}", {"rows": on_date.num_rows})
    probability = ch.churn_probability(load_churn(current), test)
    status.report(
        COMPONENT,
        "degraded",
        f"{test.num_rows:,} held-out customers scored on {current['calibration_date']} by version "
        f"{current['model_version']}, which neither trained nor was calibrated on them (too little history for an "
        "out-of-time holdout)",
        counts={"rows": test.num_rows, "model_version": current["model_version"]},
        fix="churn history before the data end for an out-of-time holdout",
    )
    return _holdout_table(test, current["model_version"], probability)
