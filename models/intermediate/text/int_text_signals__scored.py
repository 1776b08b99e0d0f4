"""The scoring cache: one row per (text_hash, model_version).

Each build scores only the distinct customer texts that the current text model version has not scored yet
(all of them on the first build and after a new model version); see empathy.text.warehouse.
"""


def model(dbt, session):
    dbt.config(
        materialized="incremental",
        unique_key=["text_hash", "model_version"],
        incremental_strategy="delete+insert",
        on_schema_change="append_new_columns",
    )
    from empathy import status
    from empathy.text import warehouse
    from empathy.text.model import load_model

    con = warehouse.backend(session)
    interactions = warehouse.as_table(con, dbt.ref("int_interactions"))
    cache = warehouse.as_table(con, dbt.this) if dbt.is_incremental else None
    return status.recorded(
        session, "int_text_signals__scored", warehouse.update_scoring_cache, interactions, cache, load_model()
    )
