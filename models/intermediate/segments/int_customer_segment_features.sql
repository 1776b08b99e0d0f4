{{ config(materialized='table') }}

{#-
    One row per customer and day, every day from the customer's first day in
    int_customer_days (at most `segment_history_days` days back) to the latest
    data day: the features the empagraphic segment rules read. Each day
    carries the latest int_customer_days row and emotional state at or before
    it; recencies and tenure grow by the days since that row. The valence
    change is the day's valence minus its mean over the 30 days before (a
    moving reference, so the change fades smoothly instead of stepping when
    an old event leaves a fixed 30-day lag). Value is
    the customer's percentile of revenue over 365 days among the customers of
    the same country that day.
-#}
{%- set history_days = var('segment_history_days', 180) %}

with

days as (

    select * from {{ ref('int_customer_days') }}

),

states as (

    select * from {{ ref('int_customer_states__scored') }}

),

customers as (

    select * from {{ ref('stg_crm__customers') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

-- each int_customer_days row with its state, valid until the customer's next row
known as (

    select
        days.customer_id,
        days.state_date,
        lead(days.state_date) over (partition by days.customer_id order by days.state_date) as next_state_date,
        days.is_eventful,
        days.tenure_days,
        days.lifecycle_stage,
        days.orders_365d,
        days.revenue_365d,
        days.days_since_order,
        days.days_since_engagement,
        days.open_tickets,
        days.complaints_30d,
        days.texts_90d,
        states.valence,
        states.arousal,
        states.dominant_emotion,
        states.empathy_score
    from days
    left join states
        on days.customer_day_id = states.customer_day_id

),

customer_span as (

    select
        customer_id,
        min(state_date) as first_date
    from known
    group by customer_id

),

-- offsets 1..history + 30 days back from the latest day (30 more: each day needs the 30 days before it)
offsets as (

    {{ dbt.generate_series(history_days + 30) }}

),

calendar as (

    select
        customer_span.customer_id,
        cast({{ dbt.dateadd('day', '1 - offsets.generated_number', 'as_of.latest_data_date') }} as date)
            as segment_date
    from customer_span
    cross join as_of
    cross join offsets
    where
        cast({{ dbt.dateadd('day', '1 - offsets.generated_number', 'as_of.latest_data_date') }} as date)
        >= customer_span.first_date

),

-- each calendar day with the customer's latest known row and the days since it
matched as (

    select
        calendar.customer_id,
        calendar.segment_date,
        {{ dbt.datediff('known.state_date', 'calendar.segment_date', 'day') }}
            as days_carried,
        known.is_eventful,
        known.tenure_days,
        known.lifecycle_stage,
        known.orders_365d,
        known.revenue_365d,
        known.days_since_order,
        known.days_since_engagement,
        known.open_tickets,
        known.complaints_30d,
        known.texts_90d,
        known.valence,
        known.arousal,
        known.dominant_emotion,
        known.empathy_score
    from calendar
    inner join known
        on
            calendar.customer_id = known.customer_id
            and calendar.segment_date >= known.state_date
            and (known.next_state_date is null or calendar.segment_date < known.next_state_date)

),

carried as (

    select
        customer_id,
        segment_date,
        is_eventful and days_carried = 0 as had_interaction,
        tenure_days + days_carried as tenure_days,
        lifecycle_stage,
        coalesce(orders_365d, 0) as orders_365d,
        coalesce(revenue_365d, 0) as revenue_365d,
        days_since_order + days_carried as days_since_order,
        days_since_engagement + days_carried as days_since_engagement,
        coalesce(open_tickets, 0) as open_tickets,
        coalesce(complaints_30d, 0) as complaints_30d,
        coalesce(texts_90d, 0) as texts_90d,
        valence,
        arousal,
        dominant_emotion,
        empathy_score
    from matched

),

trended as (

    select
        carried.*,
        carried.valence - avg(carried.valence) over (
            partition by carried.customer_id order by carried.segment_date
            rows between 30 preceding and 1 preceding
        ) as valence_change_30d
    from carried

),

in_history as (

    select
        trended.*,
        coalesce(customers.country, 'unknown') as country
    from trended
    cross join as_of
    left join customers
        on trended.customer_id = customers.customer_id
    where
        trended.segment_date
        > cast({{ dbt.dateadd('day', -history_days, 'as_of.latest_data_date') }} as date)

),

final as (

    select
        {{ dbt.concat(['customer_id', "':'", 'cast(segment_date as ' ~ dbt.type_string() ~ ')']) }}
            as customer_segment_id,
        customer_id,
        segment_date,
        coalesce(had_interaction, false) as had_interaction,
        country,
        cast(tenure_days as {{ dbt.type_int() }}) as tenure_days,
        lifecycle_stage,
        orders_365d,
        revenue_365d,
        cast(percent_rank() over (
            partition by segment_date, country order by revenue_365d
        ) as {{ type_double() }}) as value_percentile,
        cast(days_since_order as {{ dbt.type_int() }}) as days_since_order,
        cast(days_since_engagement as {{ dbt.type_int() }}) as days_since_engagement,
        open_tickets,
        complaints_30d,
        texts_90d,
        valence,
        valence_change_30d,
        arousal,
        dominant_emotion,
        empathy_score
    from in_history

)

select * from final
