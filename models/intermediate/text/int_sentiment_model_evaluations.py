"""The company's own sentiment models, one per language with enough rated texts, against the generic model.

Fitted on the texts that come with the customer's own rating (review stars, NPS and CSAT scores with a
comment); one row per language with the held-out figures of both models and the one chosen. See
empathy.text.domain and empathy.text.warehouse.
"""


def model(dbt, session):
    dbt.config(materialized="table")
    from empathy import status
    from empathy.text import warehouse
    from empathy.text.model import load_model

    con = warehouse.backend(session)
    interactions = warehouse.as_table(con, dbt.ref("int_interactions"))
    cache = warehouse.as_table(con, dbt.ref("int_text_signals__scored"))
    return status.recorded(
        session,
        "int_sentiment_model_evaluations",
        warehouse.sentiment_model_evaluations,
        interactions,
        cache,
        load_model().version,
    )
