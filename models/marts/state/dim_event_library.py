"""The event library: each event type's measured effect on later sentiment, survey score and churn hazard.

Exposed customer-days against matched unexposed ones (empathy.state.effects), from the company's own data.
"""


def model(dbt, session):
    dbt.config(materialized="table")
    from empathy import status
    from empathy.state import warehouse

    con = warehouse.backend(session)
    return status.recorded(
        session,
        "dim_event_library",
        warehouse.event_library,
        warehouse.as_table(con, dbt.ref("int_customer_events")),
        warehouse.as_table(con, dbt.ref("int_customer_day_labels")),
        warehouse.as_table(con, dbt.ref("int_customer_days")),
        warehouse.as_table(con, dbt.ref("event_types")),
    )
