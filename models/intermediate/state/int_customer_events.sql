{#-
    Events of the event library (seed event_types), one row per customer,
    event type and day, detected by the seed's rules:
    * interaction: an interaction of `interaction_type` (and `category`, and a
      related id like `related_like`, and a value within
      [min_value, max_value], when given);
    * ticket_open_days: a ticket still open `min_value` days after it was
      opened (dated that day);
    * delivery_overdue: a shipment not delivered `min_value` hours after its
      promised time, dated the promised day: the customer waits from then on,
      and may answer a survey or review before the parcel comes;
    * activity_threshold: the first day on which `activity_column` of
      int_customer_daily_activity summed over `window_days` days reaches
      `min_value`.
    Several events of one type on one day are one row; `magnitude` sums them:
    days late for an overdue delivery (until delivery or the latest day), days
    open for a ticket, the % change for a '% price change' unit, the units over
    the cap (min_value - 1) for an activity threshold, else the count.
-#}
{%- set open_until = dbt.dateadd(
    'day', 'cast(event_types.min_value as integer)', 'cast(tickets.created_at as date)'
) -%}
{%- set activity_columns = ['n_marketing_emails', 'n_error_sessions', 'n_late_deliveries', 'n_returns',
    'n_inbound_contacts', 'n_complaints', 'n_negative_texts', 'n_sessions'] -%}

with

interactions as (

    select * from {{ ref('int_interactions') }}

),

event_types as (

    select * from {{ ref('event_types') }}

),

tickets as (

    select * from {{ ref('stg_support__tickets') }}

),

shipments as (

    select * from {{ ref('stg_commerce__shipments') }}

),

orders as (

    select * from {{ ref('stg_commerce__orders') }}

),

subscriptions as (

    select * from {{ ref('stg_commerce__subscriptions') }}

),

activity as (

    select * from {{ ref('int_customer_daily_activity') }}

),

as_of as (

    {{ as_of_dates() }}

),

-- the latest day with data: the build's one as-of date (int_as_of_date)
bounds as (

    select latest_data_date as latest_date
    from as_of

),

interaction_events as (

    select
        interactions.customer_id,
        event_types.event_type,
        cast(interactions.occurred_at as date) as event_date,
        case
            when event_types.magnitude_unit = 'days late' then interactions.value / 24.0
            when event_types.magnitude_unit = '% price change'
                then 100.0 * interactions.value / nullif(subscriptions.previous_monthly_amount, 0)
            else 1.0
        end as magnitude,
        interactions.interaction_id as evidence_id
    from interactions
    left join subscriptions
        on
            interactions.interaction_type = 'subscription_price_changed'
            and interactions.related_id = subscriptions.subscription_id
    inner join event_types
        on
            event_types.rule = 'interaction'
            and interactions.interaction_type = event_types.interaction_type
            and (event_types.category is null or interactions.category = event_types.category)
            and (event_types.related_like is null or interactions.related_id like event_types.related_like)
            and (event_types.min_value is null or interactions.value >= event_types.min_value)
            and (event_types.max_value is null or interactions.value <= event_types.max_value)
    where interactions.customer_id is not null

),

ticket_events as (

    select
        tickets.customer_id,
        event_types.event_type,
        cast({{ open_until }} as date) as event_date,
        {{ dbt.datediff(
            'cast(tickets.created_at as date)',
            'coalesce(cast(tickets.resolved_at as date), bounds.latest_date)',
            'day'
        ) }} * 1.0 as magnitude,
        tickets.ticket_id as evidence_id
    from tickets
    inner join event_types
        on event_types.rule = 'ticket_open_days'
    cross join bounds
    where
        tickets.customer_id is not null
        and {{ dbt.dateadd('day', 'cast(event_types.min_value as integer)', 'cast(tickets.created_at as date)') }}
        <= bounds.latest_date
        and (
            tickets.resolved_at is null
            or tickets.resolved_at
            >= {{ dbt.dateadd('day', 'cast(event_types.min_value as integer)', 'tickets.created_at') }}
        )

),

-- shipments still undelivered min_value hours after the promised time, dated the promised day
overdue_events as (

    select
        orders.customer_id,
        event_types.event_type,
        cast(shipments.promised_delivery_at as date) as event_date,
        {{ dbt.datediff(
            'shipments.promised_delivery_at',
            'coalesce(shipments.delivered_at, cast(bounds.latest_date as timestamp))',
            'minute'
        ) }} / 1440.0 as magnitude,
        shipments.shipment_id as evidence_id
    from shipments
    inner join orders
        on shipments.order_id = orders.order_id
    inner join event_types
        on event_types.rule = 'delivery_overdue'
    cross join bounds
    where
        orders.customer_id is not null
        and shipments.promised_delivery_at is not null
        and {{ dbt.dateadd('hour', 'cast(event_types.min_value as integer)', 'shipments.promised_delivery_at') }}
        <= cast(bounds.latest_date as timestamp)
        and (
            shipments.delivered_at is null
            or shipments.delivered_at
            >= {{ dbt.dateadd('hour', 'cast(event_types.min_value as integer)', 'shipments.promised_delivery_at') }}
        )

),

-- One row per customer-day, event type and activity column value (a long form of the columns the seed names).
activity_long as (
    select
        activity.customer_id,
        activity.activity_date,
        {{ day_index('activity.activity_date') }} as day_index,
        event_types.event_type,
        event_types.window_days,
        event_types.min_value,
        case event_types.activity_column
            {%- for column in activity_columns %}
            when '{{ column }}' then activity.{{ column }}
            {%- endfor %}
        end as amount
    from activity
    inner join event_types
        on event_types.rule = 'activity_threshold'

),

activity_positive as (

    select * from activity_long
    where amount > 0

),

activity_windows as (

    select
        current_day.customer_id,
        current_day.activity_date,
        current_day.event_type,
        current_day.min_value,
        current_day.amount,
        sum(
            case when earlier.day_index > current_day.day_index - current_day.window_days then earlier.amount end
        ) as window_total,
        sum(case when earlier.day_index < current_day.day_index then earlier.amount end) as previous_window_total
    from activity_positive as current_day
    inner join activity_positive as earlier
        on
            current_day.customer_id = earlier.customer_id
            and current_day.event_type = earlier.event_type
            and earlier.day_index between current_day.day_index - current_day.window_days and current_day.day_index
    group by
        current_day.customer_id,
        current_day.activity_date,
        current_day.event_type,
        current_day.min_value,
        current_day.amount

),

activity_events as (

    select
        customer_id,
        event_type,
        activity_date as event_date,
        window_total - (min_value - 1) as magnitude,
        cast(null as {{ dbt.type_string() }}) as evidence_id
    from activity_windows
    where
        window_total >= min_value
        and coalesce(previous_window_total, 0) < min_value

),

unioned as (

    select * from interaction_events
    union all
    select * from ticket_events
    union all
    select * from overdue_events
    union all
    select * from activity_events

),

final as (

    select
        {{ dbt.concat([
            'unioned.customer_id', "':'", 'unioned.event_type', "':'",
            'cast(unioned.event_date as ' ~ dbt.type_string() ~ ')'
        ]) }} as customer_event_id,
        unioned.customer_id,
        unioned.event_type,
        unioned.event_date,
        count(*) as n_events,
        sum(unioned.magnitude) as magnitude,
        min(unioned.evidence_id) as evidence_id
    from unioned
    cross join bounds
    where unioned.event_date <= bounds.latest_date
    group by
        unioned.customer_id,
        unioned.event_type,
        unioned.event_date

)

select * from final
