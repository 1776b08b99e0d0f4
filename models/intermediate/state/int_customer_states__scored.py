"""The emotional state of every customer-day: valence, arousal, emotion, Empathy Score, predicted NPS, drivers.

The models are refitted on every label each build (empathy.state.model); the first build scores every row of
int_customer_days, later builds only new rows and the days int_customer_days recomputes. See
empathy.state.warehouse.score_states.
"""


def model(dbt, session):
    dbt.config(
        materialized="incremental",
        unique_key="customer_day_id",
        incremental_strategy="delete+insert",
        on_schema_change="fail",
    )
    from empathy import status
    from empathy.state import warehouse

    con = warehouse.backend(session)
    days = warehouse.as_table(con, dbt.ref("int_customer_days"))
    labels = warehouse.as_table(con, dbt.ref("int_customer_day_labels"))
    invitations = warehouse.as_table(con, dbt.ref("int_survey_invitations"))
    existing = warehouse.as_table(con, dbt.this) if dbt.is_incremental else None
    return status.recorded(
        session,
        "int_customer_states__scored",
        warehouse.score_states,
        days,
        labels,
        invitations,
        existing,
        recompute_days=int(dbt.config.get("state_recompute_days", 3)),
        explain_days=int(dbt.config.get("state_explain_days", 28)),
        interval_options={
            "level": float(dbt.config.get("state_interval_level", 0.8)),
            "calibration_share": float(dbt.config.get("state_interval_calibration_share", 0.2)),
            "min_pairs": int(dbt.config.get("state_interval_min_pairs", 50)),
            "shift_clip_quantile": float(dbt.config.get("state_interval_shift_clip_quantile", 0.9)),
        },
    )
