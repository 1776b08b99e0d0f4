"""Backtest figures of every churn model version and of each of its candidates: per version, candidate, origin and
metric.

Incremental: a version's figures are published once, by the build that trained it. The registry computes them
when it trains the version (out of time, or on held-out customers when the history is too short: column
`evaluation`), because they choose the candidate that scores. See empathy.predict.warehouse.backtests,
empathy.predict.backtest and empathy.predict.selection.
"""


def model(dbt, session):
    dbt.config(
        materialized="incremental",
        incremental_strategy="append",
        unique_key="backtest_row_id",
        on_schema_change="fail",
    )
    from empathy import status
    from empathy.predict import warehouse

    con = warehouse.backend(session)
    existing = warehouse.as_table(con, dbt.this) if dbt.is_incremental else None
    return status.recorded(
        session,
        "fct_model_backtests",
        warehouse.backtests,
        warehouse.as_table(con, dbt.ref("int_model_registry")),
        existing,
        origins=int(dbt.config.get("backtest_origins", 4)),
    )
