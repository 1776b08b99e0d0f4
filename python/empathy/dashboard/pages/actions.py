"""Segments and what to do about them: empagraphic segments and their weekly movements, today's next best actions,
who must not be marketed to and why, calls to route, and what each treatment measurably did against its holdout."""

from __future__ import annotations

import altair as alt
import duckdb
import pandas as pd
import streamlit as st

from empathy.dashboard.data import frame
from empathy.dashboard.ui import available

TITLE = "Segments and actions"
SEGMENTS = "marts.dim_empagraphic_segments"
TRANSITIONS = "marts.fct_segment_transitions"
ACTIONS = "marts.fct_next_best_actions"
SUPPRESSIONS = "marts.fct_contact_suppressions"
ROUTING = "marts.fct_call_routing"
OUTCOMES = "marts.fct_treatment_outcomes"
IMPACT = "marts.fct_empathy_impact"
METRICS = {
    "churn_rate": "churn rate ratio, treated / holdout (1 = no effect)",
    "order_rate": "order rate ratio, treated / holdout (1 = no effect)",
    "revenue_per_day": "revenue per day, treated - holdout (US dollars)",
    "sentiment": "sentiment of later texts, treated - holdout (-1..1)",
}
DIFFERENCES = ("revenue_per_day", "sentiment")


def segment_sizes(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Each segment on its latest day: customers, share, mean Empathy Score, churn risk and value, in rule order."""
    return frame(
        con,
        f"""
        select segment_name, description, customers, customer_share, mean_empathy_score, mean_churn_risk,
               mean_revenue_365d
        from {SEGMENTS}
        order by priority, segment_id
        """,
    )


def segment_moves(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The latest week's transition matrix: customers from each segment to each segment and the share of the 'from'
    segment that this is."""
    return frame(
        con,
        f"""
        select from_segment, to_segment, customers, share_of_from, is_same_segment
        from {TRANSITIONS}
        where week_start = (select max(week_start) from {TRANSITIONS})
        order by from_segment, to_segment
        """,
    )


def best_actions(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Customers per treatment and channel on the latest scoring day, with their summed expected value."""
    return frame(
        con,
        f"""
        select treatment_name, channel, count(*) as customers, sum(expected_value) as expected_value
        from {ACTIONS}
        where score_date = (select max(score_date) from {ACTIONS})
        group by all
        order by customers desc, treatment_name, channel
        """,
    )


def suppressions(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Customers held from marketing on the latest day, per reason (a customer counts once per reason)."""
    return frame(
        con,
        f"""
        select reason_code, count(distinct customer_id) as customers, count(distinct channel) as channels,
               max(suppressed_until) as longest_until
        from {SUPPRESSIONS}
        where score_date = (select max(score_date) from {SUPPRESSIONS})
        group by 1
        order by customers desc, reason_code
        """,
    )


def routing(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Calls to route on the latest day per tier and priority, how many are emotionally charged and how many got an
    agent with the needed skill."""
    return frame(
        con,
        f"""
        select route_tier, priority, count(*) as customers,
               count(*) filter (where is_emotionally_charged) as emotionally_charged,
               count(*) filter (where recommended_agent_id is not null and is_skill_matched) as skill_matched_agent
        from {ROUTING}
        where score_date = (select max(score_date) from {ROUTING})
        group by all
        order by route_tier, priority
        """,
    )


def uplift(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Each experiment's estimated effect per outcome with its 95% interval (estimated rows only)."""
    return frame(
        con,
        f"""
        select experiment_id, treatment_id, metric, estimate, ci_low, ci_high, n_treated, n_holdout,
               case when metric in {DIFFERENCES} then ci_low > 0 or ci_high < 0 else ci_low > 1 or ci_high < 1 end
                   as excludes_no_effect
        from {OUTCOMES}
        where status = 'estimated'
        order by metric, experiment_id
        """,
    )


def not_estimated(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Experiment outcomes without an estimate, and why."""
    return frame(
        con,
        f"""
        select experiment_id, metric, n_treated, n_holdout, status, status_reason
        from {OUTCOMES}
        where status <> 'estimated'
        order by experiment_id, metric
        """,
    )


def impact(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The measured impact figures (retained revenue, churn avoided, marketing cost avoided), with why when not."""
    return frame(con, f"select measure_id, measure, value, ci_low, ci_high, status, status_reason from {IMPACT}")


def _uplift_chart(data: pd.DataFrame, metric: str) -> alt.LayerChart:
    rows = data[data["metric"] == metric]
    base = alt.Chart(rows).encode(y=alt.Y("experiment_id:N", title=None))
    rule = base.mark_rule(strokeWidth=2).encode(x=alt.X("ci_low:Q", title=METRICS.get(metric, metric)), x2="ci_high:Q")
    point = base.mark_point(filled=True, size=80).encode(
        x="estimate:Q",
        color=alt.Color(
            "excludes_no_effect:N",
            title="95% interval excludes no effect",
            scale=alt.Scale(domain=[True, False], range=["#c0392b", "#7f8c8d"]),
        ),
        tooltip=[
            "experiment_id:N",
            alt.Tooltip("estimate:Q", format=".3f"),
            alt.Tooltip("ci_low:Q", format=".3f"),
            alt.Tooltip("ci_high:Q", format=".3f"),
            "n_treated:Q",
            "n_holdout:Q",
        ],
    )
    reference = 0.0 if metric in DIFFERENCES else 1.0
    zero = alt.Chart(pd.DataFrame({"x": [reference]})).mark_rule(strokeDash=[4, 4]).encode(x="x:Q")
    return rule + point + zero


def _segments_chart(sizes: pd.DataFrame) -> alt.Chart:
    return (
        alt.Chart(sizes)
        .mark_bar()
        .encode(
            x=alt.X("customers:Q"),
            y=alt.Y("segment_name:N", sort="-x", title=None),
            color=alt.Color(
                "mean_empathy_score:Q", title="mean Empathy Score", scale=alt.Scale(scheme="redyellowgreen")
            ),
            tooltip=[
                "segment_name:N",
                "description:N",
                "customers:Q",
                alt.Tooltip("customer_share:Q", format=".1%"),
                alt.Tooltip("mean_empathy_score:Q", format=".1f"),
                alt.Tooltip("mean_churn_risk:Q", format=".1%"),
                alt.Tooltip("mean_revenue_365d:Q", format=",.0f"),
            ],
        )
    )


def _moves_chart(moves: pd.DataFrame) -> alt.LayerChart:
    heat = (
        alt.Chart(moves)
        .mark_rect()
        .encode(
            x=alt.X("to_segment:N", title="to"),
            y=alt.Y("from_segment:N", title="from"),
            color=alt.Color("share_of_from:Q", title="share of 'from'", scale=alt.Scale(type="sqrt")),
            tooltip=["from_segment:N", "to_segment:N", "customers:Q", alt.Tooltip("share_of_from:Q", format=".1%")],
        )
    )
    return heat + heat.mark_text(baseline="middle", fontSize=10).encode(text="customers:Q", color=alt.value("black"))


def render(con: duckdb.DuckDBPyConnection) -> None:
    st.header("Empagraphic segments")
    st.caption("Who customers are, by how they feel and behave: each segment's rule, size and its mean risk and value.")
    if available(con, SEGMENTS):
        sizes = segment_sizes(con)
        st.altair_chart(_segments_chart(sizes), width="stretch")
        with st.expander("What each segment means"):
            st.dataframe(sizes[["segment_name", "description", "customers"]], hide_index=True, width="stretch")
    st.subheader("Movements in the latest week")
    if available(con, TRANSITIONS):
        st.altair_chart(_moves_chart(segment_moves(con)), width="stretch")

    st.header("Next best actions today")
    if available(con, ACTIONS):
        acts = best_actions(con)
        st.metric("Customers with an action", f"{int(acts['customers'].sum()):,}")
        bars = (
            alt.Chart(acts)
            .mark_bar()
            .encode(
                x=alt.X("customers:Q", stack=True),
                y=alt.Y("treatment_name:N", sort="-x", title=None),
                color=alt.Color("channel:N"),
                tooltip=[
                    "treatment_name:N",
                    "channel:N",
                    "customers:Q",
                    alt.Tooltip("expected_value:Q", format=",.0f"),
                ],
            )
        )
        st.altair_chart(bars, width="stretch")

    st.header("Held from marketing today")
    if available(con, SUPPRESSIONS):
        held = suppressions(con)
        st.altair_chart(
            alt.Chart(held)
            .mark_bar()
            .encode(
                x=alt.X("customers:Q"),
                y=alt.Y("reason_code:N", sort="-x", title=None),
                tooltip=["reason_code:N", "customers:Q", "channels:Q", "longest_until:T"],
            ),
            width="stretch",
        )

    st.header("Calls to route")
    if available(con, ROUTING):
        calls = routing(con)
        left, right = st.columns(2)
        left.metric("Customers likely to call", f"{int(calls['customers'].sum()):,}")
        right.metric("Emotionally charged", f"{int(calls['emotionally_charged'].sum()):,}")
        st.altair_chart(
            alt.Chart(calls)
            .mark_bar()
            .encode(
                x=alt.X("customers:Q", stack=True),
                y=alt.Y("route_tier:N", title=None),
                color=alt.Color("priority:N"),
                tooltip=["route_tier:N", "priority:N", "customers:Q", "emotionally_charged:Q", "skill_matched_agent:Q"],
            ),
            width="stretch",
        )

    st.header("What the treatments did")
    st.caption(
        "Each treatment against its randomised holdout (a hash of customer and experiment), on each customer's first "
        "exposure; lines are 95% intervals. The product measures these figures, it never assumes them."
    )
    if available(con, IMPACT):
        figures = impact(con).set_index("measure_id")
        columns = st.columns(len(figures))
        for column, (measure_id, row) in zip(columns, figures.iterrows(), strict=True):
            shown = "not measured" if pd.isna(row["value"]) else f"{row['value']:,.2f}"
            column.metric(str(measure_id).replace("_", " "), shown, help=row["status_reason"] or row["measure"])
    if available(con, OUTCOMES):
        estimates = uplift(con)
        for metric in METRICS:
            if (estimates["metric"] == metric).any():
                st.subheader(METRICS[metric].split(",")[0].capitalize())
                st.altair_chart(_uplift_chart(estimates, metric), width="stretch")
        missing = not_estimated(con)
        if not missing.empty:
            with st.expander(f"{len(missing)} experiment outcome(s) without an estimate, and why"):
                st.dataframe(missing, hide_index=True, width="stretch")
