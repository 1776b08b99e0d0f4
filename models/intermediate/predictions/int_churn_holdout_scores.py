"""Out-of-time churn scores with complete outcomes, one row per customer at the latest backtest origin.

The current churn version retrained on data before the origin scores the customers eligible on it; what the
fairness audit (fct_fairness_audit) judges churn errors and calibration on. See empathy.predict.holdout.
"""


def model(dbt, session):
    dbt.config(materialized="table")
    from empathy import status
    from empathy.predict import holdout, warehouse

    con = warehouse.backend(session)
    return status.recorded(
        session,
        "int_churn_holdout_scores",
        holdout.holdout_scores,
        warehouse.as_table(con, dbt.ref("int_model_registry")),
        warehouse.as_table(con, dbt.ref("int_customer_snapshots")),
        warehouse.as_table(con, dbt.ref("int_customer_snapshot_outcomes")),
        min_history_days=int(dbt.config.get("min_history_days", 90)),
    )
