"""Customer lifetime value on the scoring date: BG/NBD + Gamma-Gamma for purchases, survival for subscriptions.

See empathy.predict.warehouse.clv.
"""


def model(dbt, session):
    dbt.config(materialized="table")
    from empathy import status
    from empathy.predict import warehouse

    con = warehouse.backend(session)
    return status.recorded(
        session,
        "int_clv",
        warehouse.clv,
        warehouse.as_table(con, dbt.ref("int_model_registry")),
        warehouse.as_table(con, dbt.ref("int_customer_snapshots")),
        warehouse.as_table(con, dbt.ref("stg_commerce__orders")),
        warehouse.as_table(con, dbt.ref("currency_rates")),
        warehouse.as_table(con, dbt.ref("int_churn_scores")),
        horizon_months=int(dbt.config.get("clv_horizon_months", 12)),
    )
