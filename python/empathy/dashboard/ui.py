"""Small Streamlit helpers shared by the pages: the plain message for a table that cannot be shown."""

from __future__ import annotations

import duckdb
import streamlit as st

from empathy.dashboard.data import TableState, table_state


def available(con: duckdb.DuckDBPyConnection, relation: str) -> TableState | None:
    """The table's state when it has rows; otherwise None, after saying on the page why it has none."""
    state = table_state(con, relation)
    if state.ready:
        return state
    st.info(state.message, icon=":material/info:")
    return None
