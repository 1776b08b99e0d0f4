{{ config(materialized='table') }}

{#-
    What the product's decisions measurably did: one row per impact measure.

    * retained_revenue_usd: the revenue-per-day uplift of every estimated
      experiment times its treated customer-days (interval: the sum of the
      bounds, conservative);
    * churn_reduction_share: churn events avoided over the events the treated
      would have had at their holdout's rate, pooled over the experiments
      whose churn_rate is estimated; churn_events_avoided beside it;
    * marketing_cost_avoided_usd: customers held back from marketing today
      for a reason other than missing consent (int_contact_suppressions)
      times the cost of the standard campaign.

    Null with a status when nothing was estimated: measured, never asserted.
-#}

with

outcomes as (

    select * from {{ ref('int_treatment_outcomes') }}

),

suppressions as (

    select * from {{ ref('int_contact_suppressions') }}

),

treatments as (

    select * from {{ ref('treatments') }}

),

revenue as (

    select
        cast(count(*) as {{ dbt.type_int() }}) as n_experiments,
        sum(estimate * exposure_days_treated) as value,
        sum(ci_low * exposure_days_treated) as ci_low,
        sum(ci_high * exposure_days_treated) as ci_high
    from outcomes
    where metric = 'revenue_per_day' and status = 'estimated'

),

churn as (

    select
        cast(count(*) as {{ dbt.type_int() }}) as n_experiments,
        sum(exposure_days_treated * events_holdout / exposure_days_holdout) as expected_events,
        sum(events_treated) as events
    from outcomes
    where metric = 'churn_rate' and status = 'estimated'

),

suppressed as (

    select
        cast(count(distinct suppressions.customer_id) as {{ dbt.type_int() }}) as customers,
        max(treatments.cost) as campaign_cost
    from suppressions
    cross join treatments
    where treatments.treatment_id = 'standard_campaign' and suppressions.reason_code != 'no_consent'

),

measures as (

    select
        'retained_revenue_usd' as measure_id,
        'Revenue the treated customers added over their holdouts (US dollars)' as measure,
        cast(revenue.value as {{ type_double() }}) as value,
        cast(revenue.ci_low as {{ type_double() }}) as ci_low,
        cast(revenue.ci_high as {{ type_double() }}) as ci_high,
        revenue.n_experiments,
        'sum over experiments of the revenue-per-day uplift x treated customer-days' as measure_method
    from revenue
    union all
    select
        'churn_reduction_share' as measure_id,
        'Share of churn avoided among the treated, against the holdout rate' as measure,
        cast(
            case when churn.expected_events > 0 then 1 - churn.events / churn.expected_events end
            as {{ type_double() }}
        ) as value,
        cast(null as {{ type_double() }}) as ci_low,
        cast(null as {{ type_double() }}) as ci_high,
        churn.n_experiments,
        'pooled: 1 - churn events / events expected at the holdout rate (experiments with churn_rate estimated)'
            as measure_method
    from churn
    union all
    select
        'churn_events_avoided' as measure_id,
        'Churn events avoided among the treated, against the holdout rate' as measure,
        cast(
            case when churn.n_experiments > 0 then churn.expected_events - churn.events end
            as {{ type_double() }}
        ) as value,
        cast(null as {{ type_double() }}) as ci_low,
        cast(null as {{ type_double() }}) as ci_high,
        churn.n_experiments,
        'pooled: events expected at the holdout rate - churn events (experiments with churn_rate estimated)'
            as measure_method
    from churn
    union all
    select
        'marketing_cost_avoided_usd' as measure_id,
        'Marketing cost not spent on customers the rules hold back today (US dollars)' as measure,
        cast(suppressed.customers * coalesce(suppressed.campaign_cost, 0) as {{ type_double() }}) as value,
        cast(null as {{ type_double() }}) as ci_low,
        cast(null as {{ type_double() }}) as ci_high,
        cast(null as {{ dbt.type_int() }}) as n_experiments,
        'customers suppressed today x the standard campaign cost (seed treatments)' as measure_method
    from suppressed

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
        case when value is null then 'not_estimated' else 'measured' end as status,
        case
            when value is null then 'no experiment has enough exposures and events for this measure yet'
        end as status_reason
    from measures

)

select * from final
