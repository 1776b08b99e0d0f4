{{ config(meta={"status_from": ["int_customer_states__scored.state"]}) }}

{#-
    Why a customer-day's Empathy Score is what it is: its top drivers as rows
    (rank 1 = the largest absolute contribution), in Empathy Score points
    against the average customer-day, with the evidence behind each: what
    happened, when and how many ("late deliveries in 90 days: 2, the last on
    2026-06-21 (9 days ago): -12 points"). A driver named after an event shows
    only for a customer who had it in its window; the rest is the baseline
    driver (see empathy.state.model.attribute).
-#}

with

scored as (

    select * from {{ ref('int_customer_states__scored') }}

),

days as (

    select * from {{ ref('int_customer_days') }}

),

drivers as (
    {% for k in range(1, 4) %}
    select
        scored.customer_day_id,
        scored.customer_id,
        scored.state_date,
        {{ k }} as driver_rank,
        scored.driver_{{ k }} as driver,
        scored.driver_{{ k }}_label as driver_label,
        scored.driver_{{ k }}_points as points,
        scored.driver_{{ k }}_evidence as evidence,
        scored.empathy_score,
        scored.model_version
    from scored
    where
        scored.driver_{{ k }} is not null
        and scored.driver_{{ k }}_points is not null
        and scored.driver_{{ k }}_evidence is not null
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

final as (

    select
        {{ dbt.concat(['drivers.customer_day_id', "':'", 'cast(drivers.driver_rank as ' ~ dbt.type_string() ~ ')']) }}
            as explanation_id,
        drivers.customer_day_id,
        drivers.customer_id,
        drivers.state_date,
        drivers.driver_rank,
        drivers.driver,
        drivers.driver_label,
        drivers.points,
        case when drivers.points < 0 then 'lowers' else 'raises' end as direction,
        drivers.evidence,
        {{ dbt.concat([
            'drivers.evidence', "': '",
            "case when drivers.points >= 0 then '+' else '' end",
            'cast(cast(round(drivers.points, 0) as integer) as ' ~ dbt.type_string() ~ ')', "' points'"
        ]) }} as explanation,
        drivers.empathy_score,
        drivers.model_version
    from drivers
    inner join days
        on drivers.customer_day_id = days.customer_day_id

)

select * from final
