"""Segments and what to do about them: empagraphic segments and their weekly movements, today's next best actions,
who must not be marketed to and why, calls to route, and (when experiments have run) measured uplift."""

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
