"""Why each customer has their churn probability and value: the top drivers, one row each.

Value drivers are computed from the value models' inputs as fct_clv holds them. See
empathy.predict.warehouse.explanations.
"""


def model(dbt, session):
    dbt.config(materialized="table")
    from empathy import status
    from empathy.predict import warehouse

    con = warehouse.backend(session)
    return status.recorded(
        session,
        "fct_score_explanations",
        warehouse.explanations,
        warehouse.as_table(con, dbt.ref("int_model_registry")),
        warehouse.as_table(con, dbt.ref("int_customer_snapshots")),
        warehouse.as_table(con, dbt.ref("int_clv")),
    )
