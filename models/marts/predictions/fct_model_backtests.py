"""Rolling-origin backtests of every churn model version: figures per version, origin date and metric.

Incremental: a version is backtested once, by the build that trained it. See
empathy.predict.warehouse.backtests and empathy.predict.backtest.
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
        warehouse.as_table(con, dbt.ref("int_customer_snapshots")),
        warehouse.as_table(con, dbt.ref("int_customer_snapshot_outcomes")),
        existing,
        origins=int(dbt.config.get("backtest_origins", 4)),
        min_history_days=int(dbt.config.get("min_history_days", 90)),
    )
