"""`empathy eval-models`: how well the churn, next-action and value models do, on data they did not see.

* Backtests (fct_model_backtests): rolling-origin, out-of-time figures of the current churn version, the
  recency/frequency baseline and the next-action model, per origin and on average.
* Scores as SQL: the warehouse's fct_churn_scores (the compiled SQL) against the Python model on the same rows.
* Lifetime value: the BG/NBD + Gamma-Gamma fit on the CDNOW sample against the published parameters and its
  holdout purchases; and on this warehouse, a fit on all but the last 90 days against the purchases made in
  them.
* Demo world only (`<landing>/_truth/`, never read by the pipeline): for each backtest origin, the churn
  model's AUC against true churn (the simulation's latent churn event: gone by the end of the horizon, not the
  observed proxy), and
  the oracle gap: the AUC of the same model given also the latent emotional state at t − 1.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from empathy.predict import backtest as bt
from empathy.predict import churn as ch
from empathy.predict import clv as cl
from empathy.predict import purchase_model_choice as pmc
from empathy.predict.metrics import binary_summary


@dataclass
class Row:
    section: str
    metric: str
    n: int
    value: float | None
    reference: str = ""


def not_computed(section: str, why: str) -> Row:
    """A figure this warehouse cannot give, and why (printed as a dash with the reason)."""
    return Row(section, "not computed", 0, None, why)


def _status_reason(con: duckdb.DuckDBPyConnection, model: str, component: str) -> str:
    """The newest reason audit.model_status holds for a model's component, or ''."""
    try:
        row = con.execute(
            "select status, reason from audit.model_status where model = ? and component = ?"
            " order by recorded_at desc limit 1",
            [model, component],
        ).fetchone()
    except duckdb.Error:
        return ""
    return f"{row[0]}: {row[1]}" if row else ""


def _mean(frame: pd.DataFrame, model: str, metric: str) -> tuple[float, int]:
    part = frame[(frame.model_name == model) & (frame.metric == metric)]
    return (float(part.value.mean()), len(part)) if len(part) else (float("nan"), 0)


def _backtest_rows(con: duckdb.DuckDBPyConnection, version: str, chosen: str | None = None) -> list[Row]:
    """The chosen churn candidate's backtest figures beside every other candidate's, and the next-action model's."""
    bt_rows = con.execute(
        "select case when model_name = 'churn' and candidate <> ? then 'churn:' || candidate else model_name end"
        " as model_name, evaluation, origin_date, metric, value from marts.fct_model_backtests"
        " where section = 'summary' and model_version = ?",
        [chosen or "lightgbm", version],
    ).df()
    rows: list[Row] = []
    if bt_rows.empty:
        return rows
    origins = sorted(bt_rows.origin_date.unique())
    how = ", ".join(sorted(set(bt_rows.evaluation.dropna())))
    span = f"{how}: {len(origins)} origins {pd.Timestamp(origins[0]).date()}..{pd.Timestamp(origins[-1]).date()}"
    n_test = int(bt_rows[(bt_rows.model_name == "churn") & (bt_rows.metric == "n")].value.mean())
    others = sorted(m for m in set(bt_rows.model_name) if m.startswith("churn:"))
    for metric in ("auc", "pr_auc", "brier", "log_loss", "ece", "top_decile_lift", "base_rate"):
        v, _ = _mean(bt_rows, "churn", metric)
        ref = "; ".join(f"{m[6:]} {_mean(bt_rows, m, metric)[0]:.3f}" for m in others)
        rows.append(Row(f"churn backtest, {chosen or 'lightgbm'} (mean)", metric, n_test, v, f"{ref}; {span}"))
    for origin in origins:
        part = bt_rows[bt_rows.origin_date == origin]
        auc = part[(part.model_name == "churn") & (part.metric == "auc")].value
        ece = part[(part.model_name == "churn") & (part.metric == "ece")].value
        if len(auc):
            rows.append(
                Row(
                    "churn backtest",
                    f"AUC at {pd.Timestamp(origin).date()}",
                    n_test,
                    float(auc.iloc[0]),
                    f"ECE {float(ece.iloc[0]):.3f}",
                )
            )
    if not (bt_rows.model_name == "next_action").any():
        why = "no out-of-time origin; the customer holdout judges the churn candidates only"
        return [*rows, not_computed("next action backtest", why)]
    for metric in ("accuracy", "macro_auc", "log_loss"):
        v, _ = _mean(bt_rows, "next_action", metric)
        ref = ""
        if metric == "accuracy":
            m, _ = _mean(bt_rows, "next_action", "majority_accuracy")
            ref = f"{m:.3f} always the most frequent action"
        rows.append(Row("next action backtest (mean over origins)", metric, n_test, v, ref))
    return rows


def _parity_rows(con: duckdb.DuckDBPyConnection, version: dict) -> list[Row]:
    from empathy.predict.sql_export import sql_dialect_check
    from empathy.predict.warehouse import load_churn

    model = load_churn(version)
    rows_ = con.execute(
        "select s.*, c.churn_probability as sql_probability from intermediate.int_customer_snapshots s"
        " inner join marts.fct_churn_scores c on s.customer_id = c.customer_id and s.snapshot_date = c.score_date"
        " where c.model_version = ?",
        [version["model_version"]],
    ).to_arrow_table()
    if rows_.num_rows == 0:
        return []
    python = ch.churn_probability(model, rows_)
    sql = np.asarray(rows_["sql_probability"].to_numpy(zero_copy_only=False), dtype=float)
    dialects = sql_dialect_check(version["scoring_sql"])
    ok = ", ".join(d for d, good in dialects.items() if good)
    return [
        Row(
            "scores as SQL",
            "max abs(SQL − Python) churn probability",
            rows_.num_rows,
            float(np.max(np.abs(sql - python))),
            f"{len(version['scoring_sql']):,} chars of SQL; parses and transpiles for {ok}",
        ),
    ]


def _demo_clv_rows(con: duckdb.DuckDBPyConnection, holdout_days: int = 90) -> list[Row]:
    tx = con.execute(
        "select o.customer_id, o.ordered_at as date, o.order_total * r.usd_per_unit as amount"
        " from staging.stg_commerce__orders o left join reference.currency_rates r on o.currency = r.currency"
        " where o.customer_id is not null and o.order_status != 'cancelled'"
    ).df()
    if tx.empty:
        return [not_computed("value: purchase model on this warehouse", "no orders in this warehouse")]
    tx["amount"] = tx["amount"].fillna(0.0)
    end = tx["date"].max().normalize()
    cut = end - pd.Timedelta(days=holdout_days)
    section = "value: purchase model on this warehouse"
    if not (tx["date"] < cut).any():
        return [not_computed(section, f"no orders before the last {holdout_days} days to fit on")]
    summary = cl.rfm_summary(tx, "customer_id", "date", "amount", cut, observation_end=end, period_days=7.0)
    repeat = int((summary["frequency"] > 0).sum())
    if repeat < 50:
        return [not_computed(section, f"{repeat} customers bought again before the holdout (need 50 to fit BG/NBD)")]
    try:
        choice = pmc.choose_purchase_model(tx, "customer_id", "date", "amount", cut, 7.0)
    except ValueError as exc:
        return [not_computed(section, str(exc))]
    return _holdout_rows(section, len(summary), pmc.holdout_check(choice.model, None, summary), choice)


def _holdout_rows(section: str, n: int, h: dict, choice: pmc.ModelChoice | None = None) -> list[Row]:
    """Holdout figures of a purchase model against the naive rate extrapolation, and P(any purchase)."""
    rows = []
    if choice is not None:
        scores = "; ".join(
            f"{c['family']} {c['inner_mae']:.3f}" if c.get("inner_mae") is not None else f"{c['family']} —"
            for c in choice.candidates
        )
        rows.append(
            Row(
                section,
                f"purchase model chosen: {choice.family}",
                n,
                None,
                f"inner-holdout MAE ({choice.inner_holdout_days} days from {choice.inner_holdout_start}): {scores}",
            )
        )
    a = h["any_purchase"]
    naive_corr = "—" if h["naive_correlation"] is None else f"{h['naive_correlation']:.3f}"
    rows += [
        Row(
            section,
            "purchase days predicted, total",
            n,
            h["predicted_total"],
            f"actual {h['actual_total']:,.0f} ({h['relative_difference']:+.1%}); naive {h['naive_total']:,.0f}",
        ),
        Row(section, "per-customer MAE", n, h["mean_absolute_error"], f"naive {h['naive_mean_absolute_error']:.3f}"),
        Row(section, "per-customer correlation", n, h["correlation"], f"naive {naive_corr}"),
        Row(
            section,
            "P(any purchase in holdout): Brier",
            n,
            a["brier"],
            f"{a['brier_base_rate']:.3f} base rate; mean {a['mean_probability']:.3f} vs observed "
            f"{a['observed_share']:.3f}; ECE {a['expected_calibration_error']:.3f}",
        ),
    ]
    if "spend" in h:
        sp = h["spend"]
        rows.append(
            Row(
                section,
                "holdout spend predicted, total",
                n,
                sp["predicted_total"],
                f"actual {sp['actual_total']:,.0f} ({sp['relative_difference']:+.1%}); MAE {sp['mean_absolute_error']:.2f}"
                f", naive {sp['naive_mean_absolute_error']:.2f}",
            )
        )
    return rows


def _cdnow_rows(path: Path | None) -> list[Row]:
    try:
        report = cl.cdnow_report(path)
    except FileNotFoundError as exc:
        return [not_computed("value: CDNOW, 39-week calibration", f"the CDNOW sample is not here ({exc})")]
    rows = []
    n = int(report["data"]["customers"])
    for label, key in (("BG/NBD", "bgnbd"), ("Pareto/NBD", "pareto_nbd"), ("Gamma-Gamma", "gamma_gamma")):
        for item in report[key]["parameters"]:
            rows.append(
                Row(
                    "value: CDNOW, 39-week calibration",
                    f"{label} {item['parameter']}",
                    n,
                    item["fitted"],
                    f"published {item['published']} ({item['relative_difference']:+.2%})",
                )
            )
    choice = pmc.ModelChoice(
        report["choice"]["family"],
        None,
        report["choice"]["inner_holdout_start"],
        report["choice"]["inner_holdout_days"],
        report["choice"]["candidates"],
    )
    rows += _holdout_rows("value: CDNOW 39-week holdout", n, report["holdout"], choice)
    counts = report["data"]["holdout_counts"]
    rows.append(
        Row(
            "value: CDNOW 39-week holdout",
            "holdout purchase days (what is forecast)",
            n,
            float(counts["purchase_days"]),
            f"{counts['transactions']:,} transaction rows; {counts['customer_weeks']:,} customer-calendar-weeks, "
            "the count of weekly period tools: compare a published figure under its own count",
        )
    )
    return rows


def _truth_rows(
    con: duckdb.DuckDBPyConnection, truth: Path, version: dict, origins: int, min_history: int, say
) -> list[Row]:
    churn_truth = pd.read_parquet(truth / "churn.parquet", columns=["customer_id", "churned_at"])
    latent = pd.read_parquet(
        truth / "latent_state_weekly.parquet", columns=["customer_id", "week_start", "valence", "arousal"]
    )
    latent["week_start"] = pd.to_datetime(latent["week_start"]).astype("datetime64[ns]")
    rows_ = con.execute(
        "select s.*, o.is_churned, o.next_action from intermediate.int_customer_snapshots s"
        " inner join intermediate.int_customer_snapshot_outcomes o using (customer_snapshot_id)"
        " where s.is_grid_snapshot and s.is_eligible and s.history_days >= ? and o.is_label_complete"
        " order by s.snapshot_date, s.customer_id",
        [min_history],
    ).to_arrow_table()
    spec = ch.FeatureSpec.from_json(version["features"])
    params = json.loads(version["hyperparameters"])
    horizon = int(version["horizon_days"])

    def with_latent(table: pa.Table) -> pa.Table:
        frame = table.select(["customer_id", "feature_date"]).to_pandas()
        frame["feature_date"] = pd.to_datetime(frame["feature_date"]).astype("datetime64[ns]")
        frame["_i"] = np.arange(len(frame))
        merged = pd.merge_asof(
            frame.sort_values("feature_date"),
            latent.sort_values("week_start"),
            left_on="feature_date",
            right_on="week_start",
            by="customer_id",
            direction="backward",
        ).sort_values("_i")
        return table.append_column("latent_valence", pa.array(merged["valence"].to_numpy(dtype=float))).append_column(
            "latent_arousal", pa.array(merged["arousal"].to_numpy(dtype=float))
        )

    oracle_spec = ch.FeatureSpec((*spec.numeric, "latent_valence", "latent_arousal"), spec.categorical)
    dates = sorted(set(rows_["snapshot_date"].to_pylist()))
    out: list[Row] = []
    ours_auc, oracle_auc, truth_auc, oracle_truth_auc, truth_ece, obs_ece = [], [], [], [], [], []
    n_total = 0
    for origin, window in bt.origins_with_windows(dates, horizon, None, origins):
        say(f"truth check at origin {origin}")
        train = with_latent(bt._rows_on(rows_, window.train_dates))
        cal = with_latent(bt._rows_on(rows_, [window.calibration_date]))
        test = with_latent(bt._rows_on(rows_, [origin]))
        model = ch.fit_churn(train, bt._labels(train), cal, bt._labels(cal), spec=spec, params=params)
        oracle = ch.fit_churn(train, bt._labels(train), cal, bt._labels(cal), spec=oracle_spec, params=params)
        p, p_oracle = ch.churn_probability(model, test), ch.churn_probability(oracle, test)
        y_obs = bt._labels(test)
        start = pd.Timestamp(origin)
        stop = start + pd.Timedelta(days=horizon)
        # truly gone by the end of the horizon (a customer who silently left before t is still eligible: they
        # bought within the year, and the observed label rightly calls them churned)
        churned = churn_truth[churn_truth.churned_at < stop].customer_id
        y_true = np.isin(np.asarray(test["customer_id"].to_pylist()), churned.to_numpy()).astype(float)
        s_obs, s_oracle = binary_summary(y_obs, p), binary_summary(y_obs, p_oracle)
        s_true, s_oracle_true = binary_summary(y_true, p), binary_summary(y_true, p_oracle)
        ours_auc.append(s_obs["auc"])
        oracle_auc.append(s_oracle["auc"])
        truth_auc.append(s_true["auc"])
        oracle_truth_auc.append(s_oracle_true["auc"])
        truth_ece.append(s_true["ece"])
        obs_ece.append(s_obs["ece"])
        n_total += len(y_obs)
        out.append(
            Row(
                "demo truth",
                f"origin {origin}: AUC ours / oracle (observed churn)",
                len(y_obs),
                s_obs["auc"],
                f"oracle {s_oracle['auc']:.3f}; true churn rate {y_true.mean():.3f}, observed {y_obs.mean():.3f}",
            )
        )
    if ours_auc:
        out += [
            Row("demo truth (mean over origins)", "churn AUC, observed label", n_total, float(np.mean(ours_auc))),
            Row(
                "demo truth (mean over origins)",
                "oracle AUC (+ latent valence, arousal)",
                n_total,
                float(np.mean(oracle_auc)),
                f"oracle gap {np.mean(oracle_auc) - np.mean(ours_auc):+.3f}",
            ),
            Row(
                "demo truth (mean over origins)",
                "churn AUC against true churn (gone by t + H)",
                n_total,
                float(np.mean(truth_auc)),
                f"oracle {np.mean(oracle_truth_auc):.3f}, gap {np.mean(oracle_truth_auc) - np.mean(truth_auc):+.3f}",
            ),
            Row(
                "demo truth (mean over origins)",
                "expected calibration error, observed label",
                n_total,
                float(np.mean(obs_ece)),
            ),
            Row(
                "demo truth (mean over origins)",
                "expected calibration error against true churn",
                n_total,
                float(np.mean(truth_ece)),
                "probabilities are of the label (no purchase in H), about 4x commoner than true churn",
            ),
        ]
    return out


def evaluate_models(
    warehouse: Path,
    truth: Path | None,
    *,
    cdnow: Path | None = None,
    origins: int = 4,
    min_history_days: int = 90,
    progress: Callable[[str], None] | None = None,
) -> list[Row]:
    say = progress or (lambda _m: None)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        from empathy.predict.warehouse import current_versions

        try:
            registry = con.table("intermediate.int_model_registry")
        except duckdb.CatalogException as exc:
            raise ValueError(f"{warehouse} has no int_model_registry; run `empathy run` first") from exc
        versions = current_versions(registry.to_arrow_table())
        rows: list[Row] = []
        churn = versions.get("churn")
        if churn is None:
            why = _status_reason(con, "int_model_registry", "churn") or "no churn version in int_model_registry"
            rows.append(not_computed("churn backtest, SQL parity, demo truth", f"no churn model ({why})"))
        else:
            say("backtests")
            rows += _backtest_rows(con, churn["model_version"], churn.get("candidate")) or [
                not_computed(
                    "churn backtest",
                    _status_reason(con, "fct_model_backtests", "churn_backtest") or "no backtest rows for this version",
                )
            ]
            say("SQL parity")
            rows += _parity_rows(con, churn) or [
                not_computed("scores as SQL", "fct_churn_scores has no row scored by the current churn version")
            ]
        say("value on this warehouse")
        rows += _demo_clv_rows(con)
        say("value on CDNOW")
        rows += _cdnow_rows(cdnow)
        if churn is not None and truth is not None and (truth / "churn.parquet").exists():
            rows += _truth_rows(con, truth, churn, origins, min_history_days, say)
        return rows
    finally:
        con.close()


def to_markdown(rows: list[Row]) -> str:
    lines = ["| data | metric | n | value | reference |", "|---|---|---:|---:|---|"]
    for r in rows:
        if r.value is None or not np.isfinite(r.value):
            value = "—"
        else:
            value = f"{r.value:.3e}" if 0 < abs(r.value) < 1e-3 else f"{r.value:,.3f}"
        lines.append(f"| {r.section} | {r.metric} | {r.n:,} | {value} | {r.reference} |")
    return "\n".join(lines) + "\n"
