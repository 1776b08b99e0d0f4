"""Next-action probabilities of every eligible customer on the scoring date, from the current next-action model.

See empathy.predict.warehouse.next_action_probabilities; fct_next_actions adds the business rules.
"""


def model(dbt, session):
    dbt.config(materialized="table")
    from empathy import status
    from empathy.predict import warehouse

    con = warehouse.backend(session)
    return status.recorded(
        session,
        "int_next_action_probabilities",
        warehouse.next_action_probabilities,
        warehouse.as_table(con, dbt.ref("int_model_registry")),
        warehouse.as_table(con, dbt.ref("int_customer_snapshots")),
    )
