"""Why each customer has their churn probability and value: the top drivers, one row each.

See empathy.predict.warehouse.explanations.
"""


def model(dbt, session):
    dbt.config(materialized="table")
    from empathy.predict import warehouse

    con = warehouse.backend(session)
    return warehouse.explanations(
        warehouse.as_table(con, dbt.ref("int_model_registry")),
        warehouse.as_table(con, dbt.ref("int_customer_snapshots")),
        warehouse.as_table(con, dbt.ref("stg_commerce__orders")),
        warehouse.as_table(con, dbt.ref("currency_rates")),
        warehouse.as_table(con, dbt.ref("fct_churn_scores")),
        clv_horizon_months=int(dbt.config.get("clv_horizon_months", 12)),
    )
