"""Whether the company sent consent data: one row. See empathy.activation.consent_coverage and DECISIONLOG.md."""


def model(dbt, session):
    dbt.config(materialized="table")
    from empathy import status
    from empathy.activation import consent_coverage
    from empathy.predict import warehouse

    con = warehouse.backend(session)
    return status.recorded(
        session,
        "int_consent_coverage",
        consent_coverage.coverage_of,
        warehouse.as_table(con, dbt.ref("stg_crm__consents")),
    )
