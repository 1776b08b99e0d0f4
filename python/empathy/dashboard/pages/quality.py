"""Data quality and model status: the gate's checks and quarantine (audit.*), what each mart holds and why
(audit.mart_status), and what every model that learns or scores said of itself (audit.model_status)."""

from __future__ import annotations

import altair as alt
import duckdb
import pandas as pd
import streamlit as st

from empathy.dashboard.data import frame, table_state
from empathy.dashboard.ui import available

TITLE = "Data quality and status"
GATE = "audit.gate_results"
LOADS = "audit.load_log"
QUARANTINE = "audit.quarantine"
MARTS = "audit.mart_status"
MODELS = "audit.model_status"
STATUS_COLOURS = alt.Scale(domain=["ok", "degraded", "skipped"], range=["#27ae60", "#f39c12", "#c0392b"])


def gate_checks(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per raw table, the latest gate run's checks that passed and failed."""
    return frame(
        con,
        f"""
        select table_name, count(*) filter (where success) as passed, count(*) filter (where not success) as failed
        from {GATE}
        where run_id = (select max(run_id) from {GATE})
        group by 1
        order by 1
        """,
    )


def failed_checks(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The latest gate run's failed checks: table, rule, column, how many rows broke it."""
    return frame(
        con,
        f"""
        select table_name, coalesce(rule, expectation) as rule, column_name, unexpected_count, unexpected_percent
        from {GATE}
        where run_id = (select max(run_id) from {GATE}) and not success
        order by unexpected_count desc nulls last, table_name, rule
        """,
    )


def rows_by_table(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Rows loaded and quarantined per raw table over every load (long form)."""
    wide = frame(
        con,
        f"""
        select table_name, sum(rows_loaded) as loaded, sum(rows_quarantined) as quarantined
        from {LOADS}
        group by 1
        order by 1
        """,
    )
    return wide.melt(id_vars="table_name", var_name="outcome", value_name="rows")


def quarantine_by_rule(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Quarantined rows per table and rule."""
    return frame(
        con,
        f"select table_name, rule, count(*) as rows from {QUARANTINE} group by all order by rows desc, table_name, rule",
    )


def latest_mart_status(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Each mart's latest row: rows, status and, when not ok, why and what would fix it."""
    return frame(
        con,
        f"""
        select model as mart, row_count, status, reason, fix
        from {MARTS}
        qualify recorded_at = max(recorded_at) over (partition by model)
        order by case status when 'skipped' then 0 when 'degraded' then 1 else 2 end, model
        """,
    )


def latest_model_status(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Each model's newest report, one row per component."""
    return frame(
        con,
        f"""
        select model, component, status, reason, fix
        from {MODELS}
        qualify recorded_at = max(recorded_at) over (partition by model)
        order by case status when 'skipped' then 0 when 'degraded' then 1 else 2 end, model, component
        """,
    )


def status_counts(table: pd.DataFrame) -> pd.DataFrame:
    """How many rows of a status table are ok, degraded and skipped."""
    return table.groupby("status").size().rename("count").reset_index()


def _status_chart(table: pd.DataFrame, what: str) -> alt.Chart:
    return (
        alt.Chart(status_counts(table))
        .mark_bar()
        .encode(
            x=alt.X("count:Q", title=what),
            y=alt.Y("status:N", sort=["ok", "degraded", "skipped"], title=None),
            color=alt.Color("status:N", scale=STATUS_COLOURS, legend=None),
        )
    )


def render(con: duckdb.DuckDBPyConnection) -> None:
    st.header("Data-quality gate")
    if available(con, GATE):
        checks = gate_checks(con)
        failed = int(checks["failed"].sum())
        cols = st.columns(3)
        cols[0].metric("Checks in the latest gate run", f"{int(checks['passed'].sum()) + failed:,}")
        cols[1].metric("Failed checks", f"{failed:,}")
        long = checks.melt(id_vars="table_name", var_name="result", value_name="checks")
        chart = (
            alt.Chart(long)
            .mark_bar()
            .encode(
                x=alt.X("checks:Q"),
                y=alt.Y("table_name:N", title=None),
                color=alt.Color("result:N", scale=alt.Scale(domain=["passed", "failed"], range=["#27ae60", "#c0392b"])),
            )
        )
        st.altair_chart(chart, width="stretch")
        if failed:
            st.dataframe(failed_checks(con), hide_index=True, width="stretch")
    if available(con, LOADS):
        rows = rows_by_table(con)
        quarantined = int(rows.loc[rows["outcome"] == "quarantined", "rows"].sum())
        st.subheader(f"Rows loaded and quarantined ({quarantined:,} quarantined)")
        chart = (
            alt.Chart(rows)
            .mark_bar()
            .encode(
                x=alt.X("rows:Q", title="rows", stack="zero"),
                y=alt.Y("table_name:N", title=None),
                color=alt.Color(
                    "outcome:N", scale=alt.Scale(domain=["loaded", "quarantined"], range=["#2980b9", "#c0392b"])
                ),
            )
        )
        st.altair_chart(chart, width="stretch")
    st.subheader("Quarantine by rule")
    if table_state(con, QUARANTINE).rows == 0:
        st.success("No row was quarantined: every row read passed the gate's checks.")
    elif available(con, QUARANTINE):
        by_rule = quarantine_by_rule(con)
        bars = (
            alt.Chart(by_rule)
            .mark_bar()
            .encode(
                x=alt.X("rows:Q"),
                y=alt.Y("rule:N", sort="-x", title=None),
                color="table_name:N",
                tooltip=["table_name:N", "rule:N", "rows:Q"],
            )
        )
        st.altair_chart(bars, width="stretch")

    st.header("Marts")
    if available(con, MARTS):
        marts = latest_mart_status(con)
        st.altair_chart(_status_chart(marts, "marts"), width="stretch")
        st.dataframe(marts, hide_index=True, width="stretch")

    st.header("Model status")
    if available(con, MODELS):
        models = latest_model_status(con)
        st.altair_chart(_status_chart(models, "model components"), width="stretch")
        st.dataframe(models, hide_index=True, width="stretch")
