{{ config(meta={"status_from": ["int_model_registry"]}) }}

{#-
    One row per trained model version (churn, next action, order value,
    subscription value): when it was trained, on which snapshots, with which
    features and hyperparameters, its calibration, and for churn the
    candidate chosen and how it was judged (out of time or customer
    holdout), the size of its scoring SQL and the measured parity of that
    SQL with the Python scores. The model itself and its SQL stay in int_model_registry.
-#}

with

registry as (

    select * from {{ ref('int_model_registry') }}

),

latest as (

    select
        model_name,
        max(version_number) as latest_version_number
    from registry
    group by model_name

),

final as (

    select
        registry.model_version,
        registry.model_name,
        registry.version_number,
        registry.trained_through,
        registry.training_start_date,
        registry.training_end_date,
        registry.calibration_date,
        registry.horizon_days,
        registry.n_train,
        registry.n_calibration,
        registry.train_positive_rate,
        registry.feature_count,
        registry.feature_fingerprint,
        registry.features,
        registry.hyperparameters,
        registry.metrics,
        registry.calibration_a,
        registry.calibration_b,
        cast({{ dbt.length('registry.scoring_sql') }} as {{ dbt.type_bigint() }}) as scoring_sql_chars,
        registry.sql_parity_max_abs_diff,
        registry.sql_parity_rows,
        registry.retrain_reason,
        registry.candidate,
        registry.evaluation,
        registry.version_number = latest.latest_version_number as is_current
    from registry
    inner join latest
        on registry.model_name = latest.model_name

)

select * from final
