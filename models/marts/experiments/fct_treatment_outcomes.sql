{{ config(meta={"status_from": ["int_treatment_outcomes.experiments"]}) }}

{#-
    Does each treatment work? One row per experiment and outcome metric:
    treated against holdout (int_treatment_outcomes), with the estimate, its
    95% interval and the method; null with a status when too few exposures or
    events (DECISIONLOG.md).
-#}

with

outcomes as (

    select * from {{ ref('int_treatment_outcomes') }}

),

final as (

    select
        {{ dbt.concat(['experiment_id', "':'", 'metric']) }} as treatment_outcome_id,
        experiment_id,
        treatment_id,
        metric,
        cast(n_treated as {{ dbt.type_int() }}) as n_treated,
        cast(n_holdout as {{ dbt.type_int() }}) as n_holdout,
        cast(events_treated as {{ type_double() }}) as events_treated,
        cast(events_holdout as {{ type_double() }}) as events_holdout,
        cast(exposure_days_treated as {{ type_double() }}) as exposure_days_treated,
        cast(exposure_days_holdout as {{ type_double() }}) as exposure_days_holdout,
        cast(estimate as {{ type_double() }}) as estimate,
        cast(ci_low as {{ type_double() }}) as ci_low,
        cast(ci_high as {{ type_double() }}) as ci_high,
        method,
        status,
        status_reason
    from outcomes

)

select * from final
