"""What moves customers: the event library's effects with their intervals (segments and actions have their own page)."""

from __future__ import annotations

import altair as alt
import duckdb
import pandas as pd
import streamlit as st

from empathy.dashboard.data import frame
from empathy.dashboard.ui import available

TITLE = "Event library"
EVENTS = "marts.dim_event_library"
OUTCOMES = {
    "sentiment": "later text sentiment (difference, -1..1)",
    "survey": "later survey answer (difference, -1..1)",
    "churn": "churn hazard ratio (1 = no effect)",
}


def event_effects(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Estimated effects of one exposure (status ok; effects per unit of magnitude stay in the mart): the difference
    (sentiment, survey) or hazard ratio (churn) of each event type, with its 95% interval, whether it is significant
    and the exposures behind it."""
    return frame(
        con,
        f"""
        select event_type, description, outcome,
               coalesce(effect, hazard_ratio) as estimate, ci_low, ci_high, p_value,
               p_value < 0.05 as is_significant, exposed_units, control_units, expected_direction
        from {EVENTS}
        where status = 'ok' and effect_per = 'exposure' and coalesce(effect, hazard_ratio) is not null
        order by outcome, event_type
        """,
    )


def events_without_estimate(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Event types and outcomes with no estimate, with why (status)."""
    return frame(
        con,
        f"select event_type, outcome, effect_per, status, events_detected from {EVENTS}"
        " where status <> 'ok' order by 1, 2, 3",
    )


def _effects_chart(effects: pd.DataFrame, outcome: str) -> alt.LayerChart:
    data = effects[effects["outcome"] == outcome]
    reference = 1.0 if outcome == "churn" else 0.0
    base = alt.Chart(data).encode(y=alt.Y("event_type:N", title=None, sort="-x"))
    rule = base.mark_rule(strokeWidth=2).encode(
        x=alt.X("ci_low:Q", title=OUTCOMES.get(outcome, outcome)), x2="ci_high:Q"
    )
    point = base.mark_point(filled=True, size=80).encode(
        x="estimate:Q",
        color=alt.Color(
            "is_significant:N", title="p < 0.05", scale=alt.Scale(domain=[True, False], range=["#c0392b", "#7f8c8d"])
        ),
        tooltip=[
            "event_type:N",
            alt.Tooltip("estimate:Q", format=".3f"),
            alt.Tooltip("ci_low:Q", format=".3f"),
            alt.Tooltip("ci_high:Q", format=".3f"),
            alt.Tooltip("p_value:Q", format=".3f"),
            "exposed_units:Q",
        ],
    )
    zero = alt.Chart(pd.DataFrame({"x": [reference]})).mark_rule(strokeDash=[4, 4]).encode(x="x:Q")
    return rule + point + zero


def render(con: duckdb.DuckDBPyConnection) -> None:
    st.header("Event library")
    st.caption(
        "Effect of each event on later sentiment, survey answers and churn, against matched unexposed customer-days; lines are 95% intervals."
    )
    if available(con, EVENTS):
        effects = event_effects(con)
        if effects.empty:
            st.info("No event type has an estimate yet: every row of the library says why (status) below.")
        for outcome in OUTCOMES:
            if (effects["outcome"] == outcome).any():
                st.subheader(outcome.capitalize())
                st.altair_chart(_effects_chart(effects, outcome), width="stretch")
        missing = events_without_estimate(con)
        if not missing.empty:
            with st.expander(f"{len(missing)} event and outcome pair(s) without an estimate, and why"):
                st.dataframe(missing, hide_index=True, width="stretch")
