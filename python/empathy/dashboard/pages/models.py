"""Model quality: out-of-time backtests of the churn model against a recency/frequency baseline, its calibration
and lift by risk decile (fct_model_backtests), and the model versions in use (dim_model_versions)."""

from __future__ import annotations

import altair as alt
import duckdb
import pandas as pd
import streamlit as st

from empathy.dashboard.data import exists, frame
from empathy.dashboard.ui import available

TITLE = "Model quality"
BACKTESTS = "marts.fct_model_backtests"
VERSIONS = "marts.dim_model_versions"
SUMMARY_METRICS = ("auc", "pr_auc", "brier", "ece", "top_decile_lift")


def _current_version(con: duckdb.DuckDBPyConnection) -> str | None:
    """The churn version whose backtests are shown: the current one, else the newest backtested."""
    if exists(con, VERSIONS):
        row = con.execute(
            f"select model_version from {VERSIONS} where model_name = 'churn' and is_current limit 1"
        ).fetchone()
        if row:
            return row[0]
    row = con.execute(f"select max(model_version) from {BACKTESTS}").fetchone()
    return row[0] if row else None


def summary(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per model (churn, its baseline, next_action), origin and summary metric: the value for the current version."""
    return frame(
        con,
        f"""
        select model_name, origin_date, metric, value
        from {BACKTESTS}
        where section = 'summary' and model_version = ?
        order by model_name, origin_date, metric
        """,
        [_current_version(con)],
    )


def mean_summary(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, float]]:
    """{model_name: {metric: mean over the origins}} of the summary metrics."""
    table = summary(con)
    means = table.groupby(["model_name", "metric"])["value"].mean()
    return {model: means[model].to_dict() for model in means.index.get_level_values(0).unique()}


def _bins(con: duckdb.DuckDBPyConnection, section: str) -> pd.DataFrame:
    """Per bin of `section` of the churn model, pooled over the origins: customers, mean predicted and observed
    rate weighted by the bin's customers, and the mean lift."""
    return frame(
        con,
        f"""
        with cells as (
            select origin_date, bin,
                   max(value) filter (where metric = 'n') as n,
                   max(value) filter (where metric = 'mean_predicted') as mean_predicted,
                   max(value) filter (where metric = 'observed_rate') as observed_rate,
                   max(value) filter (where metric = 'lift') as lift
            from {BACKTESTS}
            where model_name = 'churn' and section = ? and model_version = ?
            group by origin_date, bin
        )
        select bin, sum(n) as n,
               sum(mean_predicted * n) / nullif(sum(n), 0) as mean_predicted,
               sum(observed_rate * n) / nullif(sum(n), 0) as observed_rate,
               avg(lift) as lift
        from cells
        where n > 0
        group by bin
        order by bin
        """,
        [section, _current_version(con)],
    )


def calibration(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Calibration bins pooled over the origins: mean predicted against observed churn rate."""
    return _bins(con, "calibration")


def lift(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Risk deciles (1 = riskiest) pooled over the origins: observed rate and lift over the base rate."""
    return _bins(con, "decile")


def _calibration_chart(bins: pd.DataFrame) -> alt.LayerChart:
    diagonal = (
        alt.Chart(pd.DataFrame({"p": [0.0, 1.0]})).mark_line(strokeDash=[4, 4], color="gray").encode(x="p:Q", y="p:Q")
    )
    base = alt.Chart(bins).encode(
        x=alt.X("mean_predicted:Q", title="mean predicted churn probability", scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("observed_rate:Q", title="observed churn rate", scale=alt.Scale(domain=[0, 1])),
    )
    points = base.mark_line(color="#2e86c1") + base.mark_circle(color="#2e86c1", opacity=0.9).encode(
        size=alt.Size("n:Q", title="customers", scale=alt.Scale(range=[30, 400])),
        tooltip=[
            "bin:O",
            "n:Q",
            alt.Tooltip("mean_predicted:Q", format=".3f"),
            alt.Tooltip("observed_rate:Q", format=".3f"),
        ],
    )
    return diagonal + points


def render(con: duckdb.DuckDBPyConnection) -> None:
    st.header("Model quality")
    if available(con, BACKTESTS) is None:
        return
    means = mean_summary(con)
    churn, baseline = means.get("churn", {}), means.get("churn_baseline_recency", {})
    st.caption(
        "Each figure is the mean over the backtest origins: the model retrained on data before each origin and scored on it."
    )
    cols = st.columns(4)
    if "auc" in churn:
        delta = churn["auc"] - baseline["auc"] if "auc" in baseline else None
        cols[0].metric(
            "Churn AUC", f"{churn['auc']:.3f}", None if delta is None else f"{delta:+.3f} vs recency baseline"
        )
    if "brier" in churn:
        cols[1].metric("Brier score", f"{churn['brier']:.3f}")
    if "ece" in churn:
        cols[2].metric("Calibration error (ECE)", f"{churn['ece']:.3f}")
    if "top_decile_lift" in churn:
        cols[3].metric("Top-decile lift", f"{churn['top_decile_lift']:.2f}")

    table = summary(con)
    compared = table[table["metric"].isin(["auc", "pr_auc"]) & table["model_name"].str.startswith("churn")]
    if not compared.empty:
        st.subheader("AUC and PR-AUC by origin, model against baseline")
        chart = (
            alt.Chart(compared)
            .mark_line(point=True)
            .encode(
                x=alt.X("origin_date:T", title="backtest origin"),
                y=alt.Y("value:Q", scale=alt.Scale(zero=False)),
                color=alt.Color("model_name:N", title="model"),
                strokeDash="metric:N",
                tooltip=["model_name:N", "metric:N", "origin_date:T", alt.Tooltip("value:Q", format=".3f")],
            )
        )
        st.altair_chart(chart, width="stretch")

    left, right = st.columns(2)
    with left:
        st.subheader("Calibration")
        bins = calibration(con)
        if bins.empty:
            st.info("No calibration bins in the backtests of the current churn version.")
        else:
            st.altair_chart(_calibration_chart(bins), width="stretch")
    with right:
        st.subheader("Lift by risk decile")
        deciles = lift(con)
        if deciles.empty:
            st.info("No risk deciles in the backtests of the current churn version.")
        else:
            bars = (
                alt.Chart(deciles)
                .mark_bar()
                .encode(
                    x=alt.X("bin:O", title="risk decile (1 = riskiest)"),
                    y=alt.Y("lift:Q", title="lift over the base rate"),
                    tooltip=[
                        "bin:O",
                        alt.Tooltip("lift:Q", format=".2f"),
                        alt.Tooltip("observed_rate:Q", format=".3f"),
                    ],
                )
            )
            st.altair_chart(
                bars + alt.Chart(pd.DataFrame({"y": [1.0]})).mark_rule(strokeDash=[4, 4]).encode(y="y:Q"),
                width="stretch",
            )

    st.subheader("Model versions")
    if available(con, VERSIONS):
        versions = frame(
            con,
            f"""select model_name, model_version, is_current, trained_through, n_train, feature_count, retrain_reason,
                   sql_parity_max_abs_diff from {VERSIONS} order by model_name, version_number desc""",
        )
        st.dataframe(
            versions,
            hide_index=True,
            width="stretch",
            column_config={"trained_through": st.column_config.DateColumn("trained through")},
        )
