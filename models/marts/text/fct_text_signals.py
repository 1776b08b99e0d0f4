"""One row per customer text interaction with its text signals.

The signals come from the scoring cache (the current text model version). Where the company's own
rating-based sentiment model beat the generic one for a language (fct_sentiment_model_evaluations), its
sentiment replaces the generic sentiment, which stays in generic_sentiment_*; see empathy.text.warehouse.
"""


def model(dbt, session):
    dbt.config(materialized="table", meta={"status_from": ["int_text_signals__scored.text_scoring"]})
    from empathy import status
    from empathy.text import warehouse
    from empathy.text.model import load_model

    con = warehouse.backend(session)
    interactions = warehouse.as_table(con, dbt.ref("fct_interactions"))
    cache = warehouse.as_table(con, dbt.ref("int_text_signals__scored"))
    evaluations = warehouse.as_table(con, dbt.ref("fct_sentiment_model_evaluations"))
    return status.recorded(
        session, "fct_text_signals", warehouse.text_signals, interactions, cache, load_model().version, evaluations
    )
