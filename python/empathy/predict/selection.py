"""Which churn candidate scores: the one with the lowest log loss on rows none of them trained on.

* Out of time (the default): every candidate is backtested on the same origins (empathy.predict.backtest); the
  mean log loss over the origins where every candidate has one decides.
* Customer holdout (when the labelled history is too short, or holds too few churners, for an out-of-time
  backtest, e.g. an export that shows only who left in its last month): customers are split by a hash of their
  id (``customer_part``: 60% train, 20% calibrate, 20% evaluate). Each candidate trains on the training
  customers' labelled snapshots, is Platt-scaled on the calibration customers and judged on the evaluation
  customers, both at the latest labelled snapshot. The chosen model is the one judged: nothing is refitted after.

Ties (equal log loss to 1e-12) go to the simpler candidate (CANDIDATES order reversed: baseline, logistic, trees).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from empathy.predict import backtest as bt
from empathy.predict import candidates as cd
from empathy.predict import churn as ch

HOLDOUT_SHARES = (0.6, 0.2, 0.2)  # train, calibrate, evaluate
OUT_OF_TIME = "out_of_time"
CUSTOMER_HOLDOUT = "customer_holdout"


def customer_part(customer_ids: list[str]) -> np.ndarray:
    """'train', 'calibrate' or 'evaluate' per customer: the first 8 bytes of sha256(customer id) as a number in
    [0, 1), cut at 0.6 and 0.8. The same customer is in the same part in every build and every warehouse."""
    u = np.array([int.from_bytes(hashlib.sha256(c.encode()).digest()[:8], "big") / 2.0**64 for c in customer_ids])
    cut_train, cut_cal = HOLDOUT_SHARES[0], HOLDOUT_SHARES[0] + HOLDOUT_SHARES[1]
    return np.where(u < cut_train, "train", np.where(u < cut_cal, "calibrate", "evaluate"))


def mean_log_loss(figures: pa.Table) -> dict[str, float]:
    """Mean churn log loss per candidate over the origins where every candidate has one."""
    rows = [
        r
        for r in figures.filter(pc.equal(figures["metric"], "log_loss")).to_pylist()
        if r["model_name"] == "churn" and r["section"] == "summary" and np.isfinite(r["value"])
    ]
    candidates = {r["candidate"] for r in rows}
    by_origin: dict[date, dict[str, float]] = {}
    for r in rows:
        by_origin.setdefault(r["origin_date"], {})[r["candidate"]] = r["value"]
    shared = [v for v in by_origin.values() if set(v) == candidates]
    return {c: float(np.mean([v[c] for v in shared])) for c in sorted(candidates)} if shared else {}


def choose(losses: dict[str, float]) -> str:
    """The candidate with the lowest log loss; ties go to the simpler one."""
    if not losses:
        raise ch.NotEnoughHistory("no candidate has an out-of-sample log loss to be chosen by")
    simple_first = [c for c in reversed(cd.CANDIDATES) if c in losses]
    best = min(losses.values())
    return next(c for c in simple_first if losses[c] <= best + 1e-12)


@dataclass
class HoldoutResult:
    figures: pa.Table
    models: dict[str, ch.ChurnModel]
    labelled_date: date
    parts: dict[str, int]


def holdout_evaluation(
    rows: pa.Table, spec: ch.FeatureSpec, *, model_version: str, threads: int = 2, progress=None
) -> HoldoutResult:
    """Fit, calibrate and judge every candidate on the customer split (BACKTEST_SCHEMA figures)."""
    dates = sorted(set(rows["snapshot_date"].to_pylist()))
    if not dates:
        raise ch.NotEnoughHistory("no labelled snapshot to hold customers out of")
    latest = dates[-1]
    part = customer_part(rows["customer_id"].to_pylist())
    on_latest = np.asarray(pc.equal(rows["snapshot_date"], pa.scalar(latest, pa.date32())))
    train = rows.filter(pa.array(part == "train"))
    cal = rows.filter(pa.array((part == "calibrate") & on_latest))
    test = rows.filter(pa.array((part == "evaluate") & on_latest))
    y_train, y_cal, y_test = bt._labels(train), bt._labels(cal), bt._labels(test)
    if y_cal.sum() < 1 or y_test.sum() < 1:
        raise ch.NotEnoughHistory(
            f"the held-out customers on {latest} hold {int(y_cal.sum())} (calibration) and {int(y_test.sum())} "
            "(evaluation) churners; need churners in both"
        )
    models, records = {}, []
    common = {
        "model_version": model_version,
        "origin_date": latest,
        "training_start_date": min(train["snapshot_date"].to_pylist()),
        "training_end_date": latest,
        "calibration_date": latest,
        "evaluation": CUSTOMER_HOLDOUT,
    }
    for candidate in cd.CANDIDATES:
        if progress:
            progress(f"customer holdout: {candidate}")
        model = ch.fit_churn(
            train, y_train, cal, y_cal, spec=spec, params=ch.candidate_params(candidate), threads=threads
        )
        models[candidate] = model
        records += bt.figure_records(
            common, "churn", candidate, bt.binary_rows(y_test, ch.churn_probability(model, test))
        )
    figures = pa.Table.from_pylist(records, schema=bt.BACKTEST_SCHEMA)
    parts = {"train_rows": train.num_rows, "calibration_rows": cal.num_rows, "evaluation_rows": test.num_rows}
    return HoldoutResult(figures, models, latest, parts)
