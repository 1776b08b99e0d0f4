"""The model registry: one row per trained version of the churn, next-action and lifetime-value models.

Append-only. A build adds a version of a model when it has none, when its newest version is
`retrain_every_days` older than the data, or when the feature columns changed (a new bring-your-own column);
otherwise it adds nothing and the marts keep scoring with the current versions. A churn version holds the
candidate chosen by out-of-sample log loss (LightGBM, a binned logistic regression or the recency baseline), its
Platt calibration, its scoring SQL (run by fct_churn_scores), the measured parity of that SQL with the Python
scores, and every candidate's figures (published by fct_model_backtests). See
empathy.predict.warehouse.train_registry and empathy.predict.selection.
"""


def model(dbt, session):
    dbt.config(materialized="incremental", incremental_strategy="append", on_schema_change="fail")
    from empathy import status
    from empathy.predict import warehouse

    con = warehouse.backend(session)
    existing = warehouse.as_table(con, dbt.this) if dbt.is_incremental else None
    return status.recorded(
        session,
        "int_model_registry",
        warehouse.train_registry,
        warehouse.as_table(con, dbt.ref("int_customer_snapshots")),
        warehouse.as_table(con, dbt.ref("int_customer_snapshot_outcomes")),
        warehouse.as_table(con, dbt.ref("int_churn_horizon")),
        warehouse.as_table(con, dbt.ref("stg_commerce__orders")),
        warehouse.as_table(con, dbt.ref("currency_rates")),
        warehouse.as_table(con, dbt.ref("stg_commerce__subscriptions")),
        existing,
        retrain_every_days=int(dbt.config.get("retrain_every_days", 28)),
        min_history_days=int(dbt.config.get("min_history_days", 90)),
        origins=int(dbt.config.get("backtest_origins", 4)),
    )
