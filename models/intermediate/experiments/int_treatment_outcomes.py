"""Treated against holdout per experiment and outcome metric. See empathy.activation.uplift and DECISIONLOG.md."""


def model(dbt, session):
    dbt.config(materialized="table")
    from empathy import status
    from empathy.activation import uplift
    from empathy.predict import warehouse

    con = warehouse.backend(session)
    return status.recorded(
        session,
        "int_treatment_outcomes",
        uplift.estimate_outcomes,
        warehouse.as_table(con, dbt.ref("int_treatment_exposure_outcomes")),
        min_events=int(dbt.config.get("experiment_min_events", 5)),
        min_per_arm=int(dbt.config.get("experiment_min_per_arm", 20)),
    )
