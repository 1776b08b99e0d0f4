"""Customers at risk and saveable: the latest churn scores, what to do, and why, in words."""

from __future__ import annotations

import altair as alt
import duckdb
import pandas as pd
import streamlit as st

from empathy.dashboard.data import exists, frame, table_state
from empathy.dashboard.ui import available

TITLE = "Customers at risk"
SCORES = "marts.fct_churn_scores"
EXPLANATIONS = "marts.fct_score_explanations"
ACTIONS = "marts.fct_next_actions"
BANDS = ("high", "medium", "low")


def risk_bands(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Customers per churn risk band on the latest scoring day, and how many of them are saveable."""
    return frame(
        con,
        f"""
        select churn_risk_band, count(*) as customers, count(*) filter (where is_saveable) as saveable
        from {SCORES}
        where score_date = (select max(score_date) from {SCORES})
        group by 1
        order by 1
        """,
    )


def drivers_in_words(con: duckdb.DuckDBPyConnection, top: int = 3) -> pd.DataFrame:
    """Per customer on the latest scoring day: the top churn drivers as one sentence,
    e.g. "late deliveries (late deliveries in 90 days: 2) raises +4.1 pts; tenure lowers -2.0 pts"."""
    return frame(
        con,
        f"""
        select
            customer_id,
            string_agg(
                driver_label
                || case when evidence is null or evidence = '' then '' else ' (' || evidence || ')' end
                || ' ' || direction || ' ' || printf('%+.1f', contribution) || ' pts',
                '; ' order by driver_rank
            ) as drivers
        from {EXPLANATIONS}
        where target = 'churn' and driver_rank <= ?
          and score_date = (select max(score_date) from {EXPLANATIONS} where target = 'churn')
        group by customer_id
        """,
        [top],
    )


def at_risk(con: duckdb.DuckDBPyConnection, saveable_only: bool = False, limit: int = 50) -> pd.DataFrame:
    """The riskiest customers on the latest scoring day, with the recommended action and its reason
    (fct_next_actions, where published) and their churn drivers in words (fct_score_explanations)."""
    has_actions = exists(con, ACTIONS)
    has_drivers = exists(con, EXPLANATIONS)
    action_cols = "a.recommended_action, a.action_reason, a.empathy_score, a.clv" if has_actions else ""
    action_join = (
        f"left join {ACTIONS} as a on a.customer_id = s.customer_id and a.score_date = s.score_date"
        if has_actions
        else ""
    )
    drivers = drivers_in_words(con) if has_drivers else pd.DataFrame(columns=["customer_id", "drivers"])
    scores = frame(
        con,
        f"""
        select s.customer_id, s.churn_probability, s.churn_risk_band, s.is_saveable, s.is_reachable,
               s.is_responsive{", " + action_cols if action_cols else ""}
        from {SCORES} as s
        {action_join}
        where s.score_date = (select max(score_date) from {SCORES})
          and (s.is_saveable or not ?)
        order by s.churn_probability desc, s.customer_id
        limit ?
        """,
        [saveable_only, limit],
    )
    table = scores.merge(drivers, on="customer_id", how="left")
    first = [
        c for c in ("customer_id", "churn_probability", "recommended_action", "drivers", "action_reason") if c in table
    ]
    return table[first + [c for c in table.columns if c not in first]]


def probabilities(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every customer's churn probability on the latest scoring day, with band and the saveable flag."""
    return frame(
        con,
        f"""
        select churn_probability, churn_risk_band, is_saveable
        from {SCORES} where score_date = (select max(score_date) from {SCORES})
        """,
    )


def render(con: duckdb.DuckDBPyConnection) -> None:
    st.header("Customers at risk and saveable")
    if available(con, SCORES) is None:
        return
    bands = risk_bands(con).set_index("churn_risk_band")
    cols = st.columns(3)
    high = bands["customers"].get("high", 0)
    cols[0].metric("Scored customers", f"{int(bands['customers'].sum()):,}")
    cols[1].metric("High churn risk", f"{int(high):,}")
    cols[2].metric("Saveable", f"{int(bands['saveable'].sum()):,}")

    chart = (
        alt.Chart(probabilities(con))
        .mark_bar()
        .encode(
            x=alt.X("churn_probability:Q", bin=alt.Bin(maxbins=40), title="churn probability within the horizon"),
            y=alt.Y("count():Q", title="customers"),
            color=alt.Color(
                "churn_risk_band:N",
                title="risk band",
                scale=alt.Scale(domain=list(BANDS), range=["#c0392b", "#f39c12", "#27ae60"]),
            ),
        )
    )
    st.altair_chart(chart, width="stretch")

    saveable_only = st.toggle("Saveable only (high risk, reachable, responsive, not gone)", value=True)
    explained = table_state(con, EXPLANATIONS)
    if not explained.ready:
        st.info(explained.message, icon=":material/info:")
    table = at_risk(con, saveable_only=saveable_only)
    if table.empty:
        st.info("No customer is saveable on the latest scoring day." if saveable_only else "No customer was scored.")
        return
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "customer_id": st.column_config.TextColumn("customer key", width="small"),
            "churn_probability": st.column_config.ProgressColumn("churn probability", min_value=0.0, max_value=1.0),
            "drivers": st.column_config.TextColumn("why (top churn drivers)", width="large"),
        },
    )
