"""What customers write about: themes found in the customer texts, and which of them are emerging.

One row per theme: its most distinctive words, how many texts and customers it holds, its share of the texts of
the last 28 days against before, its mean sentiment and an example. See empathy.text.themes and
empathy.text.warehouse.text_themes.
"""


def model(dbt, session):
    dbt.config(materialized="table")
    from empathy import status
    from empathy.text import warehouse
    from empathy.text.model import load_model

    con = warehouse.backend(session)
    interactions = warehouse.as_table(con, dbt.ref("int_interactions"))
    text_signals = warehouse.as_table(con, dbt.ref("int_text_signals"))
    # the build's one as-of date (int_as_of_date): the themes compare the weeks before it
    latest = warehouse.as_table(con, dbt.ref("int_as_of_date")).latest_data_date.max().to_pyarrow().as_py()
    as_of_date = latest.isoformat() if latest is not None else None
    return status.recorded(
        session,
        "rpt_text_themes",
        warehouse.text_themes,
        interactions,
        text_signals,
        load_model(),
        as_of_date=as_of_date,
    )
