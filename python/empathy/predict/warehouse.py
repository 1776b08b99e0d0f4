"""The warehouse side of the predictions: what the dbt Python models under `models/*/predictions/` call.

Relational steps (which snapshots train, which score, joins) are ibis expressions that run in the warehouse;
Arrow crosses into Python only for the rows a model fits on or scores.

* `train_registry` (int_model_registry): trains a new version of each model when there is none, when the
  newest is `retrain_every_days` older than the data, or when the feature columns changed. A churn version
  carries its scoring SQL (the trees compiled to CASE expressions; fct_churn_scores runs it in the warehouse)
  and the measured parity of that SQL with the Python scores.
* `backtests` (fct_model_backtests): rolling-origin backtests of each new churn version.
* `clv`, `next_actions`, `explanations`: the marts of the same names, from the current versions.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable
from datetime import date, timedelta

import duckdb
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from empathy import status
from empathy.predict import backtest as bt
from empathy.predict import candidates as cd
from empathy.predict import churn as ch
from empathy.predict import clv as cl
from empathy.predict import purchase_model_choice as pmc
from empathy.predict import selection as sel
from empathy.predict.pareto_nbd import ParetoNBDParams
from empathy.predict.sql_export import booster_to_sql, sql_number
from empathy.state.model import BASELINE_DRIVER, BASELINE_LABEL, EVIDENCE, attribute, driver_evidence
from empathy.text.warehouse import as_table, backend  # noqa: F401  (re-exported for the dbt models)

PERIOD_DAYS = 7.0  # BG/NBD time unit: weeks, as in Fader, Hardie & Lee (2005)
ANNUAL_DISCOUNT_RATE = 0.10  # lifetime value is discounted at 10% a year
DAYS_PER_MONTH = 365.25 / 12

REGISTRY_SCHEMA = pa.schema(
    [
        ("model_version", pa.string()),
        ("model_name", pa.string()),
        ("version_number", pa.int32()),
        ("trained_through", pa.date32()),
        ("training_start_date", pa.date32()),
        ("training_end_date", pa.date32()),
        ("calibration_date", pa.date32()),
        ("horizon_days", pa.int32()),
        ("n_train", pa.int64()),
        ("n_calibration", pa.int64()),
        ("train_positive_rate", pa.float64()),
        ("feature_count", pa.int32()),
        ("feature_fingerprint", pa.string()),
        ("features", pa.string()),
        ("hyperparameters", pa.string()),
        ("metrics", pa.string()),
        ("calibration_a", pa.float64()),
        ("calibration_b", pa.float64()),
        ("model_text", pa.large_string()),
        ("scoring_sql", pa.large_string()),
        ("sql_parity_max_abs_diff", pa.float64()),
        ("sql_parity_rows", pa.int64()),
        ("retrain_reason", pa.string()),
        ("candidate", pa.string()),
        ("evaluation", pa.string()),
        ("backtest_figures", pa.large_string()),
    ]
)
VERSION_TOKEN = "{model_version}"  # backtest figures are computed before their version is named


def _log(message: str) -> None:
    print(f"predictions: {message}", file=sys.stderr, flush=True)


def _arrow(expr: ir.Table | pa.Table) -> pa.Table:
    return expr if isinstance(expr, pa.Table) else expr.to_pyarrow()


def _scalar_date(value) -> date:
    return value if isinstance(value, date) else pd.Timestamp(value).date()


# -- reading the snapshot tables -----------------------------------------------------------------------------------
def labelled_rows(snapshots: ir.Table, outcomes: ir.Table, min_history_days: int) -> pa.Table:
    """Grid snapshots of eligible customers with enough history and a complete label, with the labels."""
    s = snapshots.filter(
        snapshots.is_grid_snapshot & snapshots.is_eligible & (snapshots.history_days >= min_history_days)
    )
    o = outcomes.filter(outcomes.is_label_complete).select("customer_snapshot_id", "is_churned", "next_action")
    return _arrow(s.join(o, "customer_snapshot_id").order_by(["snapshot_date", "customer_id"]))


def scoring_rows(snapshots: ir.Table) -> pa.Table:
    """The snapshot of the scoring date (the day after the latest data) for eligible customers."""
    return _arrow(snapshots.filter(snapshots.is_scoring_snapshot & snapshots.is_eligible).order_by("customer_id"))


def _horizon(horizon: ir.Table) -> tuple[int, int]:
    row = _arrow(horizon).to_pylist()[0]
    return int(row["horizon_days"]), int(row["next_action_days"])


def schema_spec_fingerprint(schema: pa.Schema) -> str:
    """The fingerprint of the candidate feature columns, from the column types alone (no data read).

    Churn and next-action versions record this fingerprint, not their spec's: infer_spec drops a text column
    with no values, so the spec's fingerprint would differ from the data's on every build and retrain each time.
    """
    numeric, categorical = [], []
    for f in schema:
        if f.name in ch.META_COLUMNS:
            continue
        t = f.type
        if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t) or pa.types.is_decimal(t):
            numeric.append(f.name)
        elif pa.types.is_string(t) or pa.types.is_large_string(t):
            categorical.append(f.name)
    return ch.FeatureSpec(tuple(numeric), dict.fromkeys(categorical, ())).fingerprint()


# -- the registry --------------------------------------------------------------------------------------------------
def _current(existing: pa.Table | None, name: str) -> dict | None:
    if existing is None or existing.num_rows == 0:
        return None
    rows = [r for r in existing.to_pylist() if r["model_name"] == name]
    return max(rows, key=lambda r: r["version_number"]) if rows else None


def _retrain_reason(current: dict | None, data_end: date, every: int, fingerprint: str | None) -> str | None:
    if current is None:
        return "first version"
    if fingerprint is not None and current["feature_fingerprint"] != fingerprint:
        return "feature columns changed"
    age = (data_end - current["trained_through"]).days
    if age >= every:
        return f"schedule: {age} days of new data (retrain_every_days {every})"
    return None


def _names_fingerprint(names: list[str]) -> str:
    return ch.FeatureSpec(tuple(names)).fingerprint()


def _version(name: str, data_end: date, fingerprint: str) -> str:
    return f"{name}-{data_end:%Y%m%d}-{fingerprint[:8]}"


def probability_sql(model: ch.ChurnModel) -> str:
    """The calibrated churn probability as one SQL expression over int_customer_snapshots' columns."""
    columns = ch.sql_feature_columns(model.spec)
    if model.candidate == "lightgbm":
        return booster_to_sql(model.booster, columns, calibration=model.calibration, output="probability")
    a, b = (sql_number(v) for v in model.calibration)
    z = f"{a} * ({model.margin_model.sql(columns)}) + {b}"
    return f"1e0 / (1e0 + exp(-greatest(-7e2, least(7e2, {z}))))"


def sql_parity(model: ch.ChurnModel, sql: str, rows: pa.Table) -> float:
    """Max |SQL − Python| churn probability over `rows`, the SQL run by an in-process DuckDB on the same rows."""
    if rows.num_rows == 0:
        return 0.0
    with duckdb.connect() as con:
        con.register("snapshots", rows)
        result = con.execute(f"select {sql} as p from snapshots").fetchnumpy()["p"]
    got = np.asarray(result, dtype=float)
    want = ch.churn_probability(model, rows)
    return float(np.max(np.abs(got - want)))


def _fallback_window(rows: pa.Table) -> ch.Window:
    """Without a time window (one labelled date, or churn only at the end): every labelled date fits."""
    dates = sorted(set(rows["snapshot_date"].to_pylist()))
    if not dates:
        raise ch.NotEnoughHistory("no snapshot has a complete churn label yet: more history is needed")
    return ch.Window(tuple(dates[:-1]) or (dates[-1],), dates[-1])


def _select_churn(
    rows: pa.Table, window: ch.Window | None, horizon_days: int, origins: int, threads: int
) -> tuple[ch.ChurnModel, pa.Table, dict]:
    """The chosen candidate fitted for production, every candidate's figures, and how the choice was made.

    Out of time when the backtest has at least one origin where every candidate ran; else on the customer
    holdout (empathy.predict.selection), whose chosen model is the production model as judged.
    """
    labelled = rows.drop_columns(["is_churned", "next_action"])
    if window is not None:
        spec = ch.infer_spec(bt._rows_on(labelled, window.train_dates))
        figures = bt.run_backtests(
            rows, model_version=VERSION_TOKEN, horizon_days=horizon_days, origins=origins,
            min_first_date=None, spec=spec, threads=threads, progress=_log,
        )  # fmt: skip
        losses = sel.mean_log_loss(figures)
        if losses:
            chosen = sel.choose(losses)
            train, cal = bt._rows_on(rows, window.train_dates), bt._rows_on(rows, [window.calibration_date])
            model = ch.fit_churn(
                train, bt._labels(train), cal, bt._labels(cal), spec=spec,
                params=ch.candidate_params(chosen), threads=threads,
            )  # fmt: skip
            return model, figures, {"evaluation": sel.OUT_OF_TIME, "log_loss_by_candidate": losses, "chosen": chosen}
    spec = ch.infer_spec(labelled)
    result = sel.holdout_evaluation(rows, spec, model_version=VERSION_TOKEN, threads=threads, progress=_log)
    losses = sel.mean_log_loss(result.figures)
    chosen = sel.choose(losses)
    how = {
        "evaluation": sel.CUSTOMER_HOLDOUT,
        "log_loss_by_candidate": losses,
        "chosen": chosen,
        "holdout_date": str(result.labelled_date),
        "holdout_split": "sha256(customer_id): 60% train, 20% calibrate, 20% evaluate",
        **result.parts,
    }
    return result.models[chosen], result.figures, how


def _churn_version(
    rows: pa.Table,
    score: pa.Table,
    window: ch.Window | None,
    horizon_days: int,
    reason: str,
    origins: int,
    threads: int,
) -> tuple[dict, ch.ChurnModel]:
    model, figures, how = _select_churn(rows, window, horizon_days, origins, threads)
    spec = model.spec
    sql = probability_sql(model)
    parity = sql_parity(model, sql, score)
    top = sorted(model.margin_model.importance(spec.names).items(), key=lambda kv: -kv[1])[:15]
    fit_window = window if how["evaluation"] == sel.OUT_OF_TIME else _fallback_window(rows)
    row = {
        "model_name": "churn",
        "training_start_date": fit_window.train_dates[0],
        "training_end_date": fit_window.train_dates[-1],
        "calibration_date": fit_window.calibration_date,
        "horizon_days": horizon_days,
        "n_train": model.n_train,
        "n_calibration": model.n_calibration,
        "train_positive_rate": model.train_positive_rate,
        "feature_count": len(spec.names),
        "feature_fingerprint": spec.fingerprint(),
        "features": spec.to_json(),
        "hyperparameters": json.dumps(model.params),
        "metrics": json.dumps(
            {
                "selection": how,
                "top_features": [{"feature": k, "importance": round(v, 4)} for k, v in top],
                "labels_complete_through": str(fit_window.calibration_date + timedelta(days=horizon_days - 1)),
                "note": "quality figures of every candidate: fct_model_backtests (evaluation says out of time or "
                "customer holdout); whether they could be computed and why not: audit.model_status",
            }
        ),
        "calibration_a": model.calibration[0],
        "calibration_b": model.calibration[1],
        "model_text": model.margin_model.to_text(),
        "scoring_sql": sql,
        "sql_parity_max_abs_diff": parity,
        "sql_parity_rows": score.num_rows,
        "retrain_reason": reason,
        "candidate": model.candidate,
        "evaluation": how["evaluation"],
        "backtest_figures": json.dumps(figures.to_pylist(), default=str),
    }
    return row, model


def _next_action_version(rows: pa.Table, window: ch.Window, spec: ch.FeatureSpec, reason: str, threads: int) -> dict:
    fit_rows = bt._rows_on(rows, [*window.train_dates, window.calibration_date])
    actions = np.asarray(fit_rows["next_action"].to_pylist())
    model = ch.fit_next_action(fit_rows, actions, spec, threads=threads)
    rates = {a: float((actions == a).mean()) for a in ch.NEXT_ACTIONS}
    return {
        "model_name": "next_action",
        "training_start_date": window.train_dates[0],
        "training_end_date": window.calibration_date,
        "calibration_date": None,
        "n_train": model.n_train,
        "n_calibration": 0,
        "train_positive_rate": None,
        "feature_count": len(spec.names),
        "feature_fingerprint": spec.fingerprint(),
        "features": spec.to_json(),
        "hyperparameters": json.dumps(model.params),
        "metrics": json.dumps({"class_rates": rates, "classes": list(ch.NEXT_ACTIONS)}),
        "model_text": model.booster.model_to_string(),
        "retrain_reason": reason,
    }


def order_transactions(orders: ir.Table, rates: ir.Table, before: date) -> pd.DataFrame:
    """Orders (not cancelled) before a date, as customer_id, date, amount in US dollars (currency_rates).

    An order in a currency without a rate counts as a purchase with amount 0 (the data test
    assert_currencies_have_rates fails the build on such a currency, so this only guards).
    """
    o = orders.filter(
        orders.customer_id.notnull()
        & orders.ordered_at.notnull()
        & (orders.order_status != "cancelled")
        & (orders.ordered_at.cast("date") < before)
    )
    o = o.left_join(rates, o.currency == rates.currency)
    o = o.select(
        customer_id="customer_id",
        date=o.ordered_at,
        amount=(o.order_total * o.usd_per_unit).fill_null(0.0),
    )
    frame = _arrow(o.order_by(["customer_id", "date", "amount"])).to_pandas()  # sums in one order
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


def subscription_durations(subscriptions: ir.Table, data_end: date) -> pd.DataFrame:
    """Months from start to end (observed) or to data_end (censored) for every subscription started by then."""
    s = _arrow(
        subscriptions.filter(subscriptions.started_at.notnull() & (subscriptions.started_at.cast("date") <= data_end))
        .select("started_at", "ended_at")
        .order_by(["started_at", "ended_at"])
    ).to_pandas()
    end = pd.Timestamp(data_end) + pd.Timedelta(days=1)
    ended = s["ended_at"].notna() & (s["ended_at"] < end)
    stop = s["ended_at"].where(ended, end)
    months = (stop - s["started_at"]).dt.total_seconds() / 86400 / DAYS_PER_MONTH
    return pd.DataFrame({"months": months.clip(lower=0).to_numpy(), "observed": ended.to_numpy()})


def _choose_purchase_model(tx: pd.DataFrame, summary: pd.DataFrame, data_end: date) -> pmc.ModelChoice:
    """The purchase model chosen on the history's own last part, or BG/NBD when the history is too short."""
    try:
        return pmc.choose_purchase_model(tx, "customer_id", "date", "amount", pd.Timestamp(data_end), PERIOD_DAYS)
    except ValueError as exc:
        model = cl.fit_bgnbd(summary["frequency"], summary["recency"], summary["T"])
        return pmc.ModelChoice("bgnbd", model, "", 0, [{"family": "bgnbd", "inner_mae": None, "error": str(exc)}])


def _clv_versions(
    orders: ir.Table, rates: ir.Table, subscriptions: ir.Table, data_end: date, reason: str
) -> list[dict]:
    out = []
    tx = order_transactions(orders, rates, data_end + timedelta(days=1))
    if tx["customer_id"].nunique() >= 100:
        summary = cl.rfm_summary(tx, "customer_id", "date", "amount", pd.Timestamp(data_end), period_days=PERIOD_DAYS)
        repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
        if len(repeat) >= 50:
            choice = _choose_purchase_model(tx, summary, data_end)
            bg = choice.model
            gg = cl.fit_gamma_gamma(repeat["frequency"], repeat["monetary_value"])
            params = {"family": bg.family, **bg.to_dict(), "p": gg.p, "q": gg.q, "v": gg.v}
            out.append(
                {
                    "model_name": "clv_bgnbd",
                    "training_start_date": tx["date"].min().date(),
                    "training_end_date": data_end,
                    "n_train": len(summary),
                    "n_calibration": 0,
                    "feature_count": 4,
                    "feature_fingerprint": _names_fingerprint(["frequency", "recency", "T", "monetary_value"]),
                    "features": json.dumps(["frequency", "recency", "T", "monetary_value"]),
                    "hyperparameters": json.dumps({"period_days": PERIOD_DAYS, "purchase_model": choice.as_dict()}),
                    "metrics": json.dumps(
                        {
                            "purchase_model": bg.family,
                            "purchase_log_likelihood": bg.log_likelihood,
                            "purchase_converged": bool(bg.converged),
                            "gamma_gamma_log_likelihood": gg.log_likelihood,
                            "repeat_customers": len(repeat),
                        }
                    ),
                    "model_text": json.dumps(params),
                    "retrain_reason": reason,
                }
            )
            status.report(
                "clv_bgnbd",
                "ok",
                f"{bg.family} fitted on {len(summary):,} buyers, chosen on the last {choice.inner_holdout_days} days "
                "of the history held out",
                counts={"buyers": len(summary)},
            )
        else:
            status.report(
                "clv_bgnbd",
                "skipped",
                f"{len(repeat):,} customers bought more than once (need 50 to fit BG/NBD + Gamma-Gamma); "
                "no order-value model, order value is null",
                counts={"buyers": len(summary), "repeat_buyers": len(repeat)},
                fix="order history with at least 50 repeat customers",
            )
    elif tx["customer_id"].nunique() > 0:
        status.report(
            "clv_bgnbd",
            "skipped",
            f"{tx['customer_id'].nunique():,} customers with orders (need 100); order value is null",
            counts={"buyers": int(tx["customer_id"].nunique())},
            fix="order history of at least 100 customers",
        )
    durations = subscription_durations(subscriptions, data_end)
    if 0 < len(durations) < 30:
        status.report(
            "clv_subscription",
            "skipped",
            f"{len(durations)} subscriptions (need 30 for a survival curve); subscription value is null",
            counts={"subscriptions": len(durations)},
            fix="at least 30 subscriptions with start (and, for ended ones, end) dates",
        )
    if len(durations) >= 30:
        km = cl.kaplan_meier(durations["months"], durations["observed"])
        out.append(
            {
                "model_name": "clv_subscription",
                "training_start_date": None,
                "training_end_date": data_end,
                "n_train": len(durations),
                "n_calibration": 0,
                "feature_count": 3,
                "feature_fingerprint": _names_fingerprint(["tenure_months", "monthly_amount", "relative_risk"]),
                "features": json.dumps(["tenure_months", "monthly_amount", "relative_risk"]),
                "hyperparameters": json.dumps({"estimator": "kaplan-meier", "unit": "months"}),
                "metrics": json.dumps({"subscriptions": len(durations), "ended": int(durations["observed"].sum())}),
                "model_text": km[["time", "survival"]].to_json(orient="records"),
                "retrain_reason": reason,
            }
        )
        status.report(
            "clv_subscription",
            "ok" if durations["observed"].sum() > 0 else "degraded",
            f"Kaplan-Meier on {len(durations):,} subscriptions, {int(durations['observed'].sum()):,} ended"
            + ("" if durations["observed"].sum() > 0 else ": none ended yet, so every lifetime is censored"),
            counts={"subscriptions": len(durations), "ended": int(durations["observed"].sum())},
            fix="" if durations["observed"].sum() > 0 else "history that includes ended subscriptions",
        )
    return out


def _report_churn(row: dict, reason: str, scored: int) -> None:
    """The churn version's status: ok when chosen out of time, degraded when only a customer holdout could judge it."""
    how = json.loads(row["metrics"])["selection"]
    losses = ", ".join(f"{c} {v:.4f}" for c, v in how["log_loss_by_candidate"].items())
    counts = {"n_train": row["n_train"], "n_calibration": row["n_calibration"], "scored": scored, **how}
    said = (
        f"trained ({reason}): {row['candidate']} chosen by {how['evaluation'].replace('_', ' ')} log loss "
        f"({losses}); SQL parity {row['sql_parity_max_abs_diff']:.1e}"
    )
    if how["evaluation"] == sel.OUT_OF_TIME:
        status.report("churn", "ok", said, counts=counts)
    else:
        status.report(
            "churn",
            "degraded",
            said + f"; no out-of-time backtest origin (labelled snapshots {row['training_start_date']} to "
            f"{how['holdout_date']}, horizon {row['horizon_days']} days: too short a labelled history, or too few "
            "churners in it), so evaluated and calibrated on held-out customers (a split by customer hash) at "
            f"{how['holdout_date']}",
            counts=counts,
            fix="a longer history with churn in it before the data end (ended subscriptions or lapsed buyers over "
            "several months, more than the horizon before the latest labelled snapshot) for an out-of-time backtest",
        )


def _report_kept(current: dict, data_end: date, every: int) -> None:
    age = (data_end - current["trained_through"]).days
    status.report(
        current["model_name"],
        "ok",
        f"current version {current['model_version']} kept: trained through {current['trained_through']}, "
        f"{age} days of new data since (retrains at {every})",
        counts={"days_since_training": age},
    )


def _report_not_enough(
    exc: Exception,
    rows: pa.Table,
    horizon_days: int,
    data_end: date,
    reasons: tuple[str | None, str | None],
    new: list,
    done: pa.Table | None,
) -> None:
    """Say why churn / next action got no version, with the counts behind it and the data that would help."""
    labels = rows["is_churned"].to_numpy(zero_copy_only=False).astype(float) if rows.num_rows else np.zeros(0)
    counts = {
        "labelled_snapshots": int(rows.num_rows),
        "snapshot_dates": len(set(rows["snapshot_date"].to_pylist())) if rows.num_rows else 0,
        "churned": int(labels.sum()),
        "stayed": int(len(labels) - labels.sum()),
        "horizon_days": horizon_days,
    }
    if counts["labelled_snapshots"] and (counts["churned"] < 10 or counts["stayed"] < 10):
        fix = (
            "needs at least 10 customers who churned and 10 who stayed within the horizon in the training "
            "snapshots: more history (repeat customers, or subscriptions whose start and end are both known)"
        )
    else:
        fix = (
            f"needs at least 1 snapshot date whose {horizon_days}-day outcome is complete by {data_end} (2 for "
            f"an out-of-time judgement): about {horizon_days + 28} more days of history, or a shorter "
            "churn_horizon_days"
        )
    have_version = {r["model_name"] for r in new}
    for name, reason in zip(("churn", "next_action"), reasons, strict=True):
        if not reason or name in have_version:
            continue
        current = _current(done, name)
        if current is None:
            status.report(name, "skipped", f"no version could be trained: {exc}", counts=counts, fix=fix)
        else:
            status.report(
                name,
                "degraded",
                f"retraining was due ({reason}) but failed: {exc}; version {current['model_version']} "
                f"(trained through {current['trained_through']}) still scores",
                counts=counts,
                fix=fix,
            )


def train_registry(
    snapshots: ir.Table,
    outcomes: ir.Table,
    horizon: ir.Table,
    orders: ir.Table,
    rates: ir.Table,
    subscriptions: ir.Table,
    existing: ir.Table | None,
    *,
    retrain_every_days: int = 28,
    min_history_days: int = 90,
    origins: int = 4,
    threads: int = 2,
) -> pa.Table:
    """New model versions (REGISTRY_SCHEMA rows) for the models that are due; empty when none is."""
    done = _arrow(existing) if existing is not None else None
    horizon_days, _ = _horizon(horizon)
    score = scoring_rows(snapshots)
    if score.num_rows == 0:
        for name in ("churn", "next_action", "clv"):
            status.report(
                name,
                "skipped",
                "no eligible customer on the scoring date (the day after the latest data)",
                counts={"eligible_customers": 0},
                fix="land customers with at least one interaction (orders, subscriptions, tickets, ...)",
            )
        return REGISTRY_SCHEMA.empty_table()
    data_end = _scalar_date(pc.max(score["feature_date"]).as_py())
    fingerprint = schema_spec_fingerprint(score.schema)
    new: list[dict] = []

    churn_reason = _retrain_reason(_current(done, "churn"), data_end, retrain_every_days, fingerprint)
    next_reason = _retrain_reason(_current(done, "next_action"), data_end, retrain_every_days, fingerprint)
    for name, reason in (("churn", churn_reason), ("next_action", next_reason)):
        if reason is None:
            _report_kept(_current(done, name), data_end, retrain_every_days)
    if churn_reason or next_reason:
        rows = labelled_rows(snapshots, outcomes, min_history_days)
        try:
            try:
                window = ch.training_window(rows["snapshot_date"].to_pylist(), data_end, horizon_days)
            except ch.NotEnoughHistory as exc:
                if not rows.num_rows:
                    raise ch.NotEnoughHistory(
                        f"0 snapshot(s) with a complete {horizon_days}-day label by {data_end}; need at least 1 "
                        "(its customers are split to train, calibrate and judge): more history is needed"
                    ) from exc
                window = None  # too little history for a time split: the customer holdout (selection.py)
            spec = None
            if churn_reason:
                row, model = _churn_version(rows, score, window, horizon_days, churn_reason, origins, threads)
                spec = model.spec
                new.append(row | {"feature_fingerprint": fingerprint})
                _report_churn(row, churn_reason, score.num_rows)
            if next_reason:
                spec = spec or ch.infer_spec(rows.drop_columns(["is_churned", "next_action"]))
                new.append(
                    _next_action_version(rows, window or _fallback_window(rows), spec, next_reason, threads)
                    | {"feature_fingerprint": fingerprint}
                )
                status.report("next_action", "ok", f"trained ({next_reason})", counts={"n_train": new[-1]["n_train"]})
        except ch.NotEnoughHistory as exc:
            _report_not_enough(exc, rows, horizon_days, data_end, (churn_reason, next_reason), new, done)
    clv_reason = _retrain_reason(
        _current(done, "clv_bgnbd") or _current(done, "clv_subscription"), data_end, retrain_every_days, None
    )
    if clv_reason:
        new.extend(_clv_versions(orders, rates, subscriptions, data_end, clv_reason))
    else:
        status.report("clv", "ok", "current value model versions kept (not due for retraining)")

    taken = set(done["model_version"].to_pylist()) if done is not None else set()
    numbers = {}
    if done is not None:
        for r in done.select(["model_name", "version_number"]).to_pylist():
            numbers[r["model_name"]] = max(numbers.get(r["model_name"], 0), r["version_number"] or 0)
    for row in new:
        numbers[row["model_name"]] = row["version_number"] = numbers.get(row["model_name"], 0) + 1
        row.setdefault("horizon_days", horizon_days)
        row["trained_through"] = data_end
        version = base = _version(row["model_name"], data_end, row["feature_fingerprint"])
        k = 1
        while version in taken:  # retrained on the same data (a forced retrain): number the versions
            k += 1
            version = f"{base}-r{k}"
        taken.add(version)
        row["model_version"] = version
        if row.get("backtest_figures"):
            row["backtest_figures"] = row["backtest_figures"].replace(VERSION_TOKEN, version)
    return pa.Table.from_pylist(new, schema=REGISTRY_SCHEMA)


# -- loading the current versions ----------------------------------------------------------------------------------
def current_versions(registry: ir.Table | pa.Table) -> dict[str, dict]:
    """The newest version (highest version_number) of each model name."""
    out: dict[str, dict] = {}
    for r in _arrow(registry).to_pylist():
        if r["model_name"] not in out or r["version_number"] > out[r["model_name"]]["version_number"]:
            out[r["model_name"]] = r
    return out


def load_churn(version: dict) -> ch.ChurnModel:
    return ch.ChurnModel(
        cd.load(version.get("candidate") or "lightgbm", version["model_text"]),
        ch.FeatureSpec.from_json(version["features"]),
        (version["calibration_a"], version["calibration_b"]),
        json.loads(version["hyperparameters"]),
        version["n_train"],
        version["n_calibration"],
        version["train_positive_rate"],
    )


def load_next_action(version: dict) -> ch.NextActionModel:
    import lightgbm as lgb

    return ch.NextActionModel(
        lgb.Booster(model_str=version["model_text"]),
        ch.FeatureSpec.from_json(version["features"]),
        json.loads(version["hyperparameters"]),
        version["n_train"],
    )


# -- backtests -----------------------------------------------------------------------------------------------------
def figures_table(text: str | None) -> pa.Table:
    """A version's backtest figures (the registry's JSON) as BACKTEST_SCHEMA rows."""
    records = json.loads(text) if text else []
    if not records:
        return bt.BACKTEST_SCHEMA.empty_table()
    columns = {}
    for field in bt.BACKTEST_SCHEMA:
        values = [r.get(field.name) for r in records]
        if pa.types.is_date(field.type):
            values = [date.fromisoformat(v) if isinstance(v, str) else v for v in values]
        columns[field.name] = pa.array(values, field.type)
    return pa.table(columns, schema=bt.BACKTEST_SCHEMA)


def backtests(registry: ir.Table, existing: ir.Table | None, *, origins: int = 4) -> pa.Table:
    """Backtest figures of every churn version not published yet: each candidate's, as its training computed them.

    The registry computes them when it trains a version (they choose its candidate, empathy.predict.selection);
    this mart publishes them once per version.
    """
    versions = [r for r in _arrow(registry).to_pylist() if r["model_name"] == "churn"]
    seen = (
        set(_arrow(existing.select("model_version").distinct())["model_version"].to_pylist())
        if existing is not None
        else set()
    )
    todo = [v for v in versions if v["model_version"] not in seen]
    if not versions:
        status.report(
            "churn_backtest",
            "skipped",
            "no churn model version to backtest (see int_model_registry's status for why)",
            fix="the data the churn model needs (see the churn row of audit.model_status)",
        )
        return bt.BACKTEST_SCHEMA.empty_table()
    if not todo:
        status.report("churn_backtest", "ok", "every churn version is backtested already")
        return bt.BACKTEST_SCHEMA.empty_table()
    table = pa.concat_tables([figures_table(v.get("backtest_figures")) for v in todo])
    return _report_backtests(table, [v["model_version"] for v in todo], origins)


def _report_backtests(table: pa.Table, versions: list[str], origins: int) -> pa.Table:
    """Keep the finite figures; say how many origins ran and which figures could not be computed."""
    finite = pc.is_finite(table["value"])
    dropped = table.filter(pc.invert(finite))
    table = table.filter(finite)
    ran = sorted({str(d) for d in table["origin_date"].to_pylist()})
    counts = {"versions": versions, "origins_asked": origins, "origins_run": len(ran), "figures": table.num_rows}
    if dropped.num_rows:
        counts["figures_not_computable"] = sorted(set(dropped["metric"].to_pylist()))
    holdout = table.num_rows and set(table["evaluation"].to_pylist()) == {sel.CUSTOMER_HOLDOUT}
    if holdout:
        status.report(
            "churn_backtest",
            "degraded",
            "no out-of-time backtest origin (too short a labelled history, or too few churners in it): every "
            f"candidate is judged on held-out customers (a split by customer hash) at {', '.join(ran)}",
            counts=counts,
            fix="a longer history with churn in it before the data end for an out-of-time backtest",
        )
    elif not ran:
        status.report(
            "churn_backtest",
            "skipped",
            f"none of the last {origins} labelled snapshot dates had enough earlier history (two labelled snapshot "
            "dates before it, with churners and stayers) to train a model as of that date",
            counts=counts,
            fix="more history: backtests need the churn horizon plus about 6 weeks of labelled snapshots per origin",
        )
    elif len(ran) < origins or dropped.num_rows:
        what = f"{len(ran)} of {origins} origins could be backtested ({', '.join(ran)})"
        if dropped.num_rows:
            what += f"; {dropped.num_rows} figures had no value (e.g. AUC with one class at an origin) and are left out"
        status.report("churn_backtest", "degraded", what, counts=counts, fix="more labelled history")
    else:
        status.report("churn_backtest", "ok", f"{len(ran)} origins: {', '.join(ran)}", counts=counts)
    return table


# -- value ---------------------------------------------------------------------------------------------------------
CLV_SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("score_date", pa.date32()),
        ("contract_type", pa.string()),
        ("purchase_frequency", pa.float64()),
        ("purchase_recency_weeks", pa.float64()),
        ("customer_age_weeks", pa.float64()),
        ("average_order_value", pa.float64()),
        ("probability_alive", pa.float64()),
        ("expected_purchases", pa.float64()),
        ("expected_order_value", pa.float64()),
        ("order_value_clv", pa.float64()),
        ("subscription_monthly_amount_usd", pa.float64()),
        ("subscription_tenure_months", pa.float64()),
        ("churn_relative_risk", pa.float64()),
        ("expected_remaining_months", pa.float64()),
        ("subscription_clv", pa.float64()),
        ("clv", pa.float64()),
        ("clv_horizon_months", pa.int32()),
        ("value_segment", pa.string()),
        ("model_version", pa.string()),
    ]
)


def _bg_models(version: dict) -> tuple[cl.BGNBDParams | ParetoNBDParams, cl.GammaGammaParams]:
    """The purchase model (family in model_text, BG/NBD for versions written before there was a choice) and
    the Gamma-Gamma spend model of a clv_bgnbd version."""
    p = json.loads(version["model_text"])
    bg = pmc.purchase_model_from_dict(p.get("family", "bgnbd"), p)
    gg = cl.GammaGammaParams(p=p["p"], q=p["q"], v=p["v"], log_likelihood=math.nan, n=0, converged=True)
    return bg, gg


def clv(
    registry: ir.Table,
    snapshots: ir.Table,
    orders: ir.Table,
    rates: ir.Table,
    churn_scores: ir.Table,
    *,
    horizon_months: int = 12,
    annual_discount_rate: float = ANNUAL_DISCOUNT_RATE,
) -> pa.Table:
    """Expected discounted value over `horizon_months` for every customer of the scoring date.

    Orders: BG/NBD + Gamma-Gamma on the customer's purchase history (non-contractual value). Subscriptions:
    the Kaplan-Meier curve of subscription lifetimes, conditional on the current tenure, with the hazard scaled
    by the customer's churn probability relative to the mean of subscribers (proportional hazards). A
    customer with both gets both. The inputs of both models are columns too (value explanations read them).
    """
    versions = current_versions(registry)
    snap = _arrow(
        snapshots.filter(snapshots.is_scoring_snapshot).select(
            "customer_id",
            "snapshot_date",
            "feature_date",
            "contract_type",
            "subscription_monthly_amount_usd",
            "subscription_tenure_days",
        )
    ).to_pandas()
    if snap.empty:
        status.report("clv", "skipped", "no customer on the scoring date", fix="land customers and their orders")
        return CLV_SCHEMA.empty_table()
    score_date = snap["snapshot_date"].iloc[0]
    data_end = snap["feature_date"].max()
    out = pd.DataFrame(
        {
            "customer_id": snap["customer_id"],
            "score_date": snap["snapshot_date"],
            "contract_type": snap["contract_type"],
        }
    ).set_index("customer_id", drop=False)
    for col in CLV_SCHEMA.names:
        if col not in out:
            out[col] = np.nan
    used = []
    bg_version = versions.get("clv_bgnbd")
    if bg_version:
        bg, gg = _bg_models(bg_version)
        tx = order_transactions(orders, rates, score_date)
        if not tx.empty:
            summary = cl.rfm_summary(
                tx, "customer_id", "date", "amount", pd.Timestamp(data_end), period_days=PERIOD_DAYS
            )
            summary = summary[summary.index.isin(out.index)]
            horizon_periods = horizon_months * DAYS_PER_MONTH / PERIOD_DAYS
            value = cl.clv_non_contractual(
                bg,
                gg,
                summary["frequency"],
                summary["recency"],
                summary["T"],
                summary["monetary_value"],
                horizon_periods,
                PERIOD_DAYS,
                annual_discount_rate,
            )
            idx = summary.index
            out.loc[idx, "purchase_frequency"] = summary["frequency"].to_numpy()
            out.loc[idx, "purchase_recency_weeks"] = summary["recency"].to_numpy()
            out.loc[idx, "customer_age_weeks"] = summary["T"].to_numpy()
            out.loc[idx, "average_order_value"] = summary["monetary_value"].to_numpy()
            out.loc[idx, "probability_alive"] = value["prob_alive"].to_numpy()
            out.loc[idx, "expected_purchases"] = value["expected_purchases"].to_numpy()
            out.loc[idx, "expected_order_value"] = value["expected_spend"].to_numpy()
            out.loc[idx, "order_value_clv"] = value["clv"].to_numpy()
        used.append(bg_version["model_version"])
    sub_version = versions.get("clv_subscription")
    subs = snap[snap["contract_type"] == "subscription"].set_index("customer_id")
    if sub_version and not subs.empty:
        km = pd.DataFrame(json.loads(sub_version["model_text"]))
        scores = _arrow(churn_scores.select("customer_id", "churn_probability")).to_pandas().set_index("customer_id")
        p = scores["churn_probability"].reindex(subs.index)
        rr = (p / p.mean()).fillna(1.0).clip(0.1, 10.0) if p.notna().any() else pd.Series(1.0, index=subs.index)
        tenure = subs["subscription_tenure_days"].fillna(0).to_numpy(dtype=float) / DAYS_PER_MONTH
        amount = subs["subscription_monthly_amount_usd"].fillna(0).to_numpy(dtype=float)
        value = cl.subscription_expected_remaining_value(
            tenure,
            amount,
            km,
            relative_risk=rr.to_numpy(),
            horizon_months=horizon_months,
            annual_discount_rate=annual_discount_rate,
        )
        out.loc[subs.index, "subscription_monthly_amount_usd"] = amount
        out.loc[subs.index, "subscription_tenure_months"] = tenure
        out.loc[subs.index, "churn_relative_risk"] = rr.to_numpy()
        out.loc[subs.index, "expected_remaining_months"] = value["expected_remaining_months"].to_numpy()
        out.loc[subs.index, "subscription_clv"] = value["expected_remaining_value"].to_numpy()
        used.append(sub_version["model_version"])
    valued = out["order_value_clv"].notna() | out["subscription_clv"].notna()
    # A customer no value model covers has an unknown value (null), not a value of 0.
    out["clv"] = (out["order_value_clv"].fillna(0.0) + out["subscription_clv"].fillna(0.0)).where(valued)
    out["clv_horizon_months"] = horizon_months
    q80, q50 = out["clv"].quantile(0.8), out["clv"].quantile(0.5)
    out["value_segment"] = np.where(out["clv"] >= q80, "high", np.where(out["clv"] >= q50, "medium", "low"))
    out.loc[out["clv"] <= 0, "value_segment"] = "none"
    out.loc[~valued, "value_segment"] = None
    out["model_version"] = ",".join(used) if used else None
    _report_clv(int(valued.sum()), len(out), used)
    table = pa.Table.from_pandas(out.reset_index(drop=True)[CLV_SCHEMA.names], schema=CLV_SCHEMA, preserve_index=False)
    return table


def _report_clv(valued: int, customers: int, used: list[str]) -> None:
    counts = {"customers": customers, "valued": valued, "model_versions": used}
    if not used:
        status.report(
            "clv",
            "skipped",
            "no lifetime-value model version (see the clv_bgnbd / clv_subscription rows of int_model_registry's "
            "status); clv is null for every customer",
            counts=counts,
            fix="order history with repeat customers, or subscriptions with start and end dates",
        )
    elif valued < customers:
        status.report(
            "clv",
            "degraded",
            f"{customers - valued:,} of {customers:,} customers have no value model that covers them (clv is null)",
            counts=counts,
            fix="orders for buyers, or subscriptions for subscribers, of those customers",
        )
    else:
        status.report("clv", "ok", f"{valued:,} customers valued", counts=counts)


# -- next action ---------------------------------------------------------------------------------------------------
NEXT_ACTION_SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("score_date", pa.date32()),
        *[(f"p_{a}", pa.float64()) for a in ch.NEXT_ACTIONS],
        ("predicted_next_action", pa.string()),
        ("model_version", pa.string()),
    ]
)


def next_action_probabilities(registry: ir.Table, snapshots: ir.Table) -> pa.Table:
    """Probabilities of each next action for every eligible customer of the scoring date (empty without a model)."""
    version = current_versions(registry).get("next_action")
    rows = scoring_rows(snapshots)
    if version is None or rows.num_rows == 0:
        status.report(
            "next_action",
            "skipped",
            "no next-action model version (see int_model_registry's status)"
            if version is None
            else "no eligible customer on the scoring date",
            counts={"eligible_customers": rows.num_rows},
            fix="the history the churn and next-action models need (see the next_action row of int_model_registry)",
        )
        return NEXT_ACTION_SCHEMA.empty_table()
    model = load_next_action(version)
    proba = ch.next_action_probabilities(model, rows)
    columns = {
        "customer_id": rows["customer_id"],
        "score_date": rows["snapshot_date"],
        **{f"p_{a}": pa.array(proba[:, i]) for i, a in enumerate(ch.NEXT_ACTIONS)},
        "predicted_next_action": pa.array(np.asarray(ch.NEXT_ACTIONS)[proba.argmax(axis=1)]),
        "model_version": pa.array([version["model_version"]] * rows.num_rows, pa.string()),
    }
    return pa.table(columns, schema=NEXT_ACTION_SCHEMA)


# -- explanations --------------------------------------------------------------------------------------------------
EXPLANATION_SCHEMA = pa.schema(
    [
        ("explanation_id", pa.string()),
        ("customer_id", pa.string()),
        ("score_date", pa.date32()),
        ("target", pa.string()),
        ("driver_rank", pa.int32()),
        ("driver", pa.string()),
        ("driver_label", pa.string()),
        ("contribution", pa.float64()),
        ("unit", pa.string()),
        ("direction", pa.string()),
        ("evidence", pa.string()),
        ("baseline", pa.float64()),
        ("prediction", pa.float64()),
        ("model_version", pa.string()),
    ]
)
# The evidence of the churn drivers: the state model's facts, and those of what only churn sees.
CHURN_EVIDENCE = EVIDENCE | {
    "subscription": (
        (
            "active_subscriptions",
            (
                "active subscriptions: {active_subscriptions:.0f}, {subscription_monthly_amount_usd:.2f} USD a month,"
                " for {subscription_tenure_days:.0f} days",
                "active subscriptions: {active_subscriptions:.0f}",
            ),
        ),
        ("last_price_change_share", ("last price change: {last_price_change_share:+.0%}",)),
    ),
    "consent": (
        ("has_email_marketing_consent", ("consents to marketing e-mails",)),
        ("has_sms_marketing_consent", ("consents to marketing SMS",)),
        ("has_profiling_consent", ("consents to profiling",)),
    ),
    "profile": (
        ("segment", ("segment: {segment}",)),
        ("acquisition_channel", ("acquired through: {acquisition_channel}",)),
        ("company_size", ("company size: {company_size}",)),
        ("industry", ("industry: {industry}",)),
    ),
}
VALUE_DRIVER_LABELS = {
    "frequency": "how often they buy",
    "recency": "how recently they bought",
    "T": "how long they have been a customer",
    "monetary_value": "how much they spend per order",
    "monthly_amount": "subscription price",
    "tenure_months": "subscription tenure",
    "relative_risk": "churn risk",
}


def _top_rows(
    groups: pd.DataFrame,
    customers: np.ndarray,
    score_date,
    target: str,
    unit: str,
    labels: dict,
    baseline: np.ndarray,
    prediction: np.ndarray,
    version: str,
    top: int,
    evidence: Callable[[np.ndarray, str], np.ndarray],
) -> list[pa.Table]:
    """The top `top` drivers per row; `evidence(rows, driver)` gives the evidence text of `driver` on `rows`
    (None: no evidence, and the driver is not shown)."""
    values = groups.to_numpy()
    names = np.asarray(groups.columns)
    k = min(top, values.shape[1])
    order = np.argsort(-np.abs(values), axis=1, kind="stable")[:, :k]
    out = []
    for rank in range(k):
        j = order[:, rank]
        v = values[np.arange(len(values)), j]
        keep = np.abs(v) > 1e-12
        texts = np.full(len(values), None, dtype=object)
        for name in np.unique(names[j][keep]):
            sel = np.nonzero(keep & (names[j] == name))[0]
            texts[sel] = evidence(sel, str(name))
        keep &= pd.notna(texts)
        drivers = names[j][keep]
        ids = [f"{c}:{score_date}:{target}:{rank + 1}" for c in customers[keep]]
        out.append(
            pa.table(
                {
                    "explanation_id": pa.array(ids, pa.string()),
                    "customer_id": pa.array(customers[keep], pa.string()),
                    "score_date": pa.array([score_date] * int(keep.sum()), pa.date32()),
                    "target": pa.array([target] * int(keep.sum()), pa.string()),
                    "driver_rank": pa.array(np.full(int(keep.sum()), rank + 1, dtype=np.int32)),
                    "driver": pa.array(drivers, pa.string()),
                    "driver_label": pa.array([labels.get(d, d.replace("_", " ")) for d in drivers], pa.string()),
                    "contribution": pa.array(v[keep]),
                    "unit": pa.array([unit] * int(keep.sum()), pa.string()),
                    "direction": pa.array(np.where(v[keep] > 0, "raises", "lowers"), pa.string()),
                    "evidence": pa.array(texts[keep], pa.string()),
                    "baseline": pa.array(np.asarray(baseline, dtype=float)[keep]),
                    "prediction": pa.array(np.asarray(prediction, dtype=float)[keep]),
                    "model_version": pa.array([version] * int(keep.sum()), pa.string()),
                },
                schema=EXPLANATION_SCHEMA,
            )
        )
    return out


def churn_evidence(
    groups: pd.DataFrame, rows: pa.Table
) -> tuple[pd.DataFrame, Callable[[np.ndarray, str], np.ndarray]]:
    """The churn groups with the evidence rule applied (empathy.state.model.attribute) and their evidence.

    A driver named after an event keeps its contribution only for customers with that event in its window (as
    of the snapshot's feature date); the rest goes to the baseline group, whose evidence names the drivers whose
    events the customer did not have.
    """
    frame = rows.to_pandas()
    frame["state_date"] = pd.to_datetime(frame["feature_date"])
    gated = attribute(groups, frame, CHURN_EVIDENCE)
    raw = groups.reindex(columns=gated.columns, fill_value=0.0).to_numpy()
    moved = np.where(gated.to_numpy() == 0, np.abs(raw), 0.0)
    moved[:, list(gated.columns).index(BASELINE_DRIVER)] = 0.0
    labels = np.asarray([ch.DRIVER_LABELS.get(d, d.replace("_", " ")) for d in gated.columns], dtype=object)

    def evidence(sel: np.ndarray, driver: str) -> np.ndarray:
        absent = None
        if driver == BASELINE_DRIVER:
            order = np.argsort(-moved[sel], axis=1, kind="stable")[:, :3]
            absent = [[labels[j] for j in order[i] if moved[sel[i], j] > 1e-3] for i in range(len(sel))]
        return driver_evidence(frame.iloc[sel], driver, absent, CHURN_EVIDENCE)

    return gated, evidence


def value_evidence(X: pd.DataFrame) -> Callable[[np.ndarray, str], np.ndarray]:
    """The evidence of the value drivers: the customer's value-model inputs, in words."""
    texts = {
        "frequency": lambda r: (
            f"repeat purchases: {r.frequency:.0f}" if r.frequency >= 1 else "one purchase, no repeat yet"
        ),
        "recency": lambda r: (
            f"last purchase {r.recency:.1f} weeks after the first" if r.frequency >= 1 else "no repeat purchase yet"
        ),
        "T": lambda r: f"first purchase {r.T:.1f} weeks ago",
        "monetary_value": lambda r: (
            f"average order value: {r.monetary_value:.2f} USD" if r.monetary_value > 0 else "no order value yet"
        ),
        "monthly_amount": lambda r: f"subscription price: {r.monthly_amount:.2f} USD a month",
        "tenure_months": lambda r: (
            f"subscribed for {r.tenure_months:.0f} months" if r.tenure_months >= 1 else "subscribed this month"
        ),
        "relative_risk": lambda r: f"churn risk {r.relative_risk:.2f} times the average customer's",
    }

    def evidence(sel: np.ndarray, driver: str) -> np.ndarray:
        say = texts.get(driver, lambda r: f"{driver}: {getattr(r, driver):g}")
        return np.asarray([say(r) for r in X.iloc[sel].itertuples(index=False)], dtype=object)

    return evidence


def explanations(
    registry: ir.Table,
    snapshots: ir.Table,
    clv_table: ir.Table,
    *,
    top: int = 5,
) -> pa.Table:
    """The top `top` drivers of each customer's churn probability (probability points) and value (currency).

    Churn: exact TreeSHAP contributions of the current churn version, summed per driver group (see
    empathy.predict.churn.churn_contributions); they add up to the probability minus the baseline
    probability. Value: exact Shapley values of the value model's inputs (frequency, recency, customer age and
    order value for purchases; price, tenure and churn risk for subscriptions, as fct_clv holds them) against
    the median customer; they add up to the value minus the median customer's value. Every row carries its
    evidence; a churn driver named after an event shows only for customers who had it (see churn_evidence).
    """
    versions = current_versions(registry)
    tables: list[pa.Table] = []
    rows = scoring_rows(snapshots)
    if rows.num_rows == 0:
        status.report("explanations", "skipped", "no eligible customer on the scoring date")
        return EXPLANATION_SCHEMA.empty_table()
    score_date = rows["snapshot_date"][0].as_py()
    if "churn" in versions:
        model = load_churn(versions["churn"])
        groups, p, p0 = ch.churn_contributions(model, rows)
        customers = np.asarray(rows["customer_id"].to_pylist(), dtype=object)
        gated, evidence = churn_evidence(groups, rows)
        tables += _top_rows(
            gated,
            customers,
            score_date,
            "churn",
            "probability points",
            ch.DRIVER_LABELS | {BASELINE_DRIVER: BASELINE_LABEL},
            p0 * 100,
            p * 100,
            versions["churn"]["model_version"],
            top,
            evidence,
        )
    value = _arrow(clv_table).to_pandas().set_index("customer_id")
    horizon_months = int(value["clv_horizon_months"].iloc[0]) if len(value) else 12
    rate = ANNUAL_DISCOUNT_RATE
    buyers = value[value["purchase_frequency"].notna()]
    if "clv_bgnbd" in versions and len(buyers):
        bg, gg = _bg_models(versions["clv_bgnbd"])
        horizon_periods = horizon_months * DAYS_PER_MONTH / PERIOD_DAYS
        X = pd.DataFrame(
            {
                "frequency": buyers["purchase_frequency"],
                "recency": buyers["purchase_recency_weeks"],
                "T": buyers["customer_age_weeks"],
                "monetary_value": buyers["average_order_value"],
            }
        ).astype(float)
        baseline = X.median()
        baseline["frequency"] = float(np.round(baseline["frequency"]))
        fn = cl.clv_value_fn(bg, gg, horizon_periods, PERIOD_DAYS, rate)
        shap = cl.clv_shapley(fn, X, baseline)
        base_value = float(shap.attrs.get("baseline_value", fn(baseline.to_frame().T)[0]))
        tables += _top_rows(
            shap,
            np.asarray(X.index, dtype=object),
            score_date,
            "order_value",
            "currency",
            VALUE_DRIVER_LABELS,
            np.full(len(X), base_value),
            fn(X),
            versions["clv_bgnbd"]["model_version"],
            top,
            value_evidence(X),
        )
    subs = value[(value["contract_type"] == "subscription") & value["subscription_clv"].notna()]
    if "clv_subscription" in versions and len(subs):
        km = pd.DataFrame(json.loads(versions["clv_subscription"]["model_text"]))
        X = pd.DataFrame(
            {
                "monthly_amount": subs["subscription_monthly_amount_usd"],
                "tenure_months": subs["subscription_tenure_months"],
                "relative_risk": subs["churn_relative_risk"],
            }
        ).astype(float)

        def fn(frame: pd.DataFrame) -> np.ndarray:
            return cl.subscription_expected_remaining_value(
                frame["tenure_months"].to_numpy(),
                frame["monthly_amount"].to_numpy(),
                km,
                relative_risk=frame["relative_risk"].to_numpy(),
                horizon_months=horizon_months,
                annual_discount_rate=rate,
            )["expected_remaining_value"].to_numpy()

        baseline = X.median()
        shap = cl.clv_shapley(fn, X, baseline)
        base_value = float(fn(baseline.to_frame().T)[0])
        tables += _top_rows(
            shap,
            np.asarray(X.index, dtype=object),
            score_date,
            "subscription_value",
            "currency",
            VALUE_DRIVER_LABELS,
            np.full(len(X), base_value),
            fn(X),
            versions["clv_subscription"]["model_version"],
            top,
            value_evidence(X),
        )
    result = pa.concat_tables(tables) if tables else EXPLANATION_SCHEMA.empty_table()
    _report_explanations(result, versions)
    return result


def _report_explanations(result: pa.Table, versions: dict) -> None:
    targets = sorted(set(result["target"].to_pylist()))
    counts = {"rows": result.num_rows, "targets": targets}
    missing = [
        target
        for target, model in (
            ("churn", "churn"),
            ("order_value", "clv_bgnbd"),
            ("subscription_value", "clv_subscription"),
        )
        if model not in versions
    ]
    if not targets:
        status.report(
            "explanations",
            "skipped",
            "no churn or value model version to explain (see int_model_registry's status)",
            counts=counts,
            fix="the history the churn and value models need",
        )
    elif "churn" in missing:
        status.report(
            "explanations",
            "degraded",
            "no churn model version: only value drivers are explained",
            counts=counts,
            fix="the history the churn model needs (see the churn row of int_model_registry)",
        )
    else:
        status.report("explanations", "ok", f"drivers for {', '.join(targets)}", counts=counts)
