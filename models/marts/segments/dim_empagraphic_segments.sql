{{ config(meta={"status_from": ["int_customer_segments.segments"]}) }}

{#-
    One row per empagraphic segment (seed empagraphic_segments): its name,
    description and rule, and on the latest data day its size, share of the
    customers, mean Empathy Score, mean churn risk (the next-action model's
    probability of churn, int_next_action_probabilities) and mean value
    (revenue over 365 days). Segments with no customer have size 0.
-#}

with

definitions as (

    select * from {{ ref('empagraphic_segments') }}

),

segments as (

    select * from {{ ref('int_customer_segments') }}

),

probabilities as (

    select * from {{ ref('int_next_action_probabilities') }}

),

latest_day as (

    select max(segment_date) as latest_date
    from segments

),

latest as (

    select segments.*
    from segments
    inner join latest_day
        on segments.segment_date = latest_day.latest_date

),

total as (

    select count(*) as customers
    from latest

),

sized as (

    select
        latest.segment_id,
        count(*) as customers,
        avg(latest.empathy_score) as mean_empathy_score,
        avg(probabilities.p_churn) as mean_churn_risk,
        avg(latest.revenue_365d) as mean_revenue_365d
    from latest
    left join probabilities
        on latest.customer_id = probabilities.customer_id
    group by latest.segment_id

),

final as (

    select
        definitions.segment_id,
        definitions.segment_name,
        definitions.priority,
        definitions.description,
        definitions.segment_rule,
        definitions.uses_state,
        latest_day.latest_date,
        cast(coalesce(sized.customers, 0) as {{ dbt.type_int() }}) as customers,
        cast(coalesce(sized.customers, 0) as {{ type_double() }})
        / nullif(total.customers, 0) as customer_share,
        cast(sized.mean_empathy_score as {{ type_double() }}) as mean_empathy_score,
        cast(sized.mean_churn_risk as {{ type_double() }}) as mean_churn_risk,
        cast(sized.mean_revenue_365d as {{ type_double() }}) as mean_revenue_365d
    from definitions
    cross join latest_day
    cross join total
    left join sized
        on definitions.segment_id = sized.segment_id

)

select * from final
