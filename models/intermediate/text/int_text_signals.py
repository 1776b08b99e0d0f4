"""One row per customer text interaction with its text signals.

The signals come from the scoring cache (the current text model version). Where the company's own
rating-based sentiment model beat the generic one for a language (int_sentiment_model_evaluations), its
sentiment replaces the generic sentiment, which stays in generic_sentiment_*. A text the language detector is unsure
of takes its customer's declared language (stg_crm__customers) or the company's main one, and is scored again when
that moves it into or out of English (var text_language_switch_confidence); see empathy.text.warehouse.
"""


def model(dbt, session):
    dbt.config(materialized="table", meta={"status_from": ["int_text_signals__scored.text_scoring"]})
    switch_confidence = float(dbt.config.get("text_language_switch_confidence", 0.99))
    from empathy import status
    from empathy.text import warehouse
    from empathy.text.model import load_model

    con = warehouse.backend(session)
    interactions = warehouse.as_table(con, dbt.ref("int_interactions"))
    cache = warehouse.as_table(con, dbt.ref("int_text_signals__scored"))
    evaluations = warehouse.as_table(con, dbt.ref("int_sentiment_model_evaluations"))
    customers = warehouse.as_table(con, dbt.ref("stg_crm__customers"))
    model = load_model()
    return status.recorded(
        session,
        "int_text_signals",
        warehouse.text_signals,
        interactions,
        cache,
        model.version,
        evaluations,
        customers=customers,
        text_model=model,
        switch_confidence=switch_confidence,
    )
