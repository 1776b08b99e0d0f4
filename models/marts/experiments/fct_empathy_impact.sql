{{ config(meta={"status_from": ["int_treatment_outcomes.experiments"]}) }}

{#-
    What the product's decisions measurably did: retained revenue, churn
    reduction against the holdout and marketing cost avoided by suppression,
    one row per measure (int_empathy_impact). Measured, never asserted: null
    with a status when nothing could be estimated.
-#}

with

impact as (

    select * from {{ ref('int_empathy_impact') }}

),

final as (

    select
        measure_id,
        measure,
        value,
        ci_low,
        ci_high,
        n_experiments,
        measure_method,
        status,
        status_reason
    from impact

)

select * from final
