"""Overview: how customers feel (the Empathy Score over time, the emotion mix) and the dissatisfaction alerts."""

from __future__ import annotations

import altair as alt
import duckdb
import pandas as pd
import streamlit as st

from empathy.dashboard.data import exists, frame, scalar
from empathy.dashboard.ui import available

TITLE = "Overview"
STATES = "marts.fct_customer_emotional_states"
JOURNEY = "marts.fct_emotional_journey"
ALERTS = "marts.fct_dissatisfaction_alerts"
EMOTIONS = ("joy", "sadness", "anger", "fear", "surprise", "disgust", "neutral")
EMOTION_COLOURS = ("#f1c40f", "#2e86c1", "#c0392b", "#7d3c98", "#e67e22", "#6e8b3d", "#bdc3c7")


def headline(con: duckdb.DuckDBPyConnection) -> dict:
    """Customers, today's mean Empathy Score and distressed share, and alerts of the latest 30 days."""
    out = {"customers": int(scalar(con, "select count(*) from marts.dim_customers") or 0)}
    if exists(con, STATES):
        mean, distressed = con.execute(
            f"select avg(empathy_score), avg((empathy_band = 'distressed')::int) from {STATES} where is_latest"
        ).fetchone()
        out.update(mean_empathy_score=mean, distressed_share=distressed)
    if exists(con, ALERTS):
        out["alerts_30d"] = int(
            scalar(
                con,
                f"select count(*) from {ALERTS} where alert_date > (select max(alert_date) from {ALERTS}) - 30",
            )
            or 0
        )
    return out


def empathy_trend(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Each week's end: every customer's latest state by then (the state shown that day), its mean Empathy Score,
    10th and 90th percentiles and the distressed share. Customers count from their first state on."""
    return frame(
        con,
        f"""
        with weeks as (
            select unnest(generate_series(min(state_date), max(state_date), interval 7 day))::date as week_end
            from {STATES}
        ),
        keys as (
            select w.week_end, c.customer_id
            from weeks as w cross join (select distinct customer_id from {STATES}) as c
        )
        select
            k.week_end,
            count(*) as customers,
            avg(s.empathy_score) as mean_empathy_score,
            quantile_cont(s.empathy_score, 0.1) as p10,
            quantile_cont(s.empathy_score, 0.9) as p90,
            avg((s.empathy_band = 'distressed')::int) as distressed_share
        from keys as k
        asof join {STATES} as s on k.customer_id = s.customer_id and k.week_end >= s.state_date
        group by k.week_end
        order by k.week_end
        """,
    )


def emotion_mix(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per month, the mean probability of each dominant emotion over the eventful customer-days (long form)."""
    shares = ", ".join(f"sum({e}_share * customer_days) / sum(customer_days) as {e}" for e in EMOTIONS)
    wide = frame(
        con,
        f"select activity_month, {shares} from {JOURNEY} where customer_days > 0 group by 1 order by 1",
    )
    return wide.melt(id_vars="activity_month", var_name="emotion", value_name="share")


def recent_alerts(con: duckdb.DuckDBPyConnection, limit: int = 20) -> pd.DataFrame:
    """The latest alerts, most severe first within a day."""
    return frame(
        con,
        f"""
        select alert_date, severity, segment_dimension, segment_value, unhappy_share, baseline_share, z_score,
               customer_days
        from {ALERTS}
        order by alert_date desc, z_score desc, alert_id
        limit ?
        """,
        [limit],
    )


def _trend_chart(trend: pd.DataFrame) -> alt.Chart:
    base = alt.Chart(trend).encode(x=alt.X("week_end:T", title="week ending"))
    band = base.mark_area(opacity=0.25).encode(
        y=alt.Y("p10:Q", title="Empathy Score (0-100)", scale=alt.Scale(domain=[0, 100])), y2="p90:Q"
    )
    line = base.mark_line(point=True).encode(
        y="mean_empathy_score:Q",
        tooltip=[
            alt.Tooltip("week_end:T", title="week ending"),
            alt.Tooltip("mean_empathy_score:Q", title="mean", format=".1f"),
            alt.Tooltip("distressed_share:Q", title="distressed", format=".1%"),
            alt.Tooltip("customers:Q", format=","),
        ],
    )
    return band + line


def _alerts_chart(alerts: pd.DataFrame) -> alt.Chart:
    return (
        alt.Chart(alerts)
        .mark_circle(size=90)
        .encode(
            x=alt.X("alert_date:T", title="day"),
            y=alt.Y("z_score:Q", title="z-score against the segment's baseline"),
            color=alt.Color(
                "severity:N",
                scale=alt.Scale(domain=["medium", "high", "critical"], range=["#f2b134", "#e8702a", "#c0392b"]),
            ),
            tooltip=["alert_date:T", "severity:N", "segment_dimension:N", "segment_value:N", "unhappy_share:Q"],
        )
    )


def render(con: duckdb.DuckDBPyConnection) -> None:
    st.header("How customers feel")
    if available(con, "marts.dim_customers") is None:
        return
    top = headline(con)
    cols = st.columns(4)
    cols[0].metric("Customers", f"{top['customers']:,}")
    if top.get("mean_empathy_score") is not None:
        cols[1].metric("Mean Empathy Score today", f"{top['mean_empathy_score']:.1f}")
        cols[2].metric("Distressed today", f"{top['distressed_share']:.1%}")
    if "alerts_30d" in top:
        cols[3].metric("Alerts, latest 30 days", f"{top['alerts_30d']:,}")

    st.subheader("Empathy Score by week")
    if available(con, STATES):
        st.caption("Mean of every customer's state as shown at each week's end; the band holds the middle 80%.")
        st.altair_chart(_trend_chart(empathy_trend(con)), width="stretch")

    st.subheader("Emotion mix by month")
    if available(con, JOURNEY):
        mix = emotion_mix(con)
        chart = (
            alt.Chart(mix)
            .mark_bar()
            .encode(
                x=alt.X("yearmonth(activity_month):O", title="month"),
                y=alt.Y(
                    "share:Q", stack="normalize", title="share of eventful customer-days", axis=alt.Axis(format="%")
                ),
                color=alt.Color(
                    "emotion:N",
                    sort=list(EMOTIONS),
                    scale=alt.Scale(domain=list(EMOTIONS), range=list(EMOTION_COLOURS)),
                ),
                tooltip=["yearmonth(activity_month):O", "emotion:N", alt.Tooltip("share:Q", format=".1%")],
            )
        )
        st.altair_chart(chart, width="stretch")

    st.subheader("Dissatisfaction alerts")
    if available(con, ALERTS):
        alerts = recent_alerts(con, limit=200)
        st.altair_chart(_alerts_chart(alerts), width="stretch")
        st.dataframe(
            alerts.head(10),
            hide_index=True,
            width="stretch",
            column_config={"alert_date": st.column_config.DateColumn("day")},
        )
