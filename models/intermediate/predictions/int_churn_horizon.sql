{#-
    The churn horizon H, one row: a customer counts as churned at snapshot t
    when they churn within [t, t + H). var('churn_horizon_days') fixes it;
    otherwise the data decides: the 90th percentile of the gaps between a
    customer's consecutive purchase days, rounded up to whole 30 days and kept
    within 30..180 days, so nine in ten returning customers come back within
    the horizon (DECISIONLOG.md). With fewer than 100 repeat gaps (a
    subscription business without orders, or a young shop) it is 90 days.

    An export that shows churn only at its end (subscriptions that ended only
    in the last var('churn_window_max_days') days, after a history at least
    twice as long: "who left in the last month") is a churn window: H runs
    from the latest grid date on or before the first end to the data end, so
    the label window ends at the data end, and only snapshots from that date
    on are labelled (labels_from_date): before it the export does not say
    who left.
-#}
{%- set fixed = var('churn_horizon_days', none) -%}
{%- set max_window = var('churn_window_max_days', 92) -%}
{%- set end_window_days = dbt.datediff('ends.first_end_date', 'ends.latest_data_date', 'day') -%}
{%- set history_days = dbt.datediff('ends.first_start_date', 'ends.first_end_date', 'day') -%}
{%- set window_horizon_days = dbt.datediff('end_days.window_start_date', 'end_days.latest_data_date', 'day') -%}
{%- set window_start = dbt.dateadd(
    'day', '-1 * mod(' ~ day_index('ends.first_end_date') ~ ', ' ~ var('snapshot_every_days', 14) ~ ')',
    'ends.first_end_date'
) -%}

with

orders as (

    select * from {{ ref('stg_commerce__orders') }}

),

subscriptions as (

    select * from {{ ref('stg_commerce__subscriptions') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

-- When subscriptions ended and how far back the subscriptions go, against the data end.
ends as (

    select
        max(as_of.latest_data_date) as latest_data_date,
        min(cast(subscriptions.started_at as date)) as first_start_date,
        min(
            case
                when cast(subscriptions.ended_at as date) <= as_of.latest_data_date
                    then cast(subscriptions.ended_at as date)
            end
        ) as first_end_date,
        count(
            case when cast(subscriptions.ended_at as date) <= as_of.latest_data_date then 1 end
        ) as ended_subscriptions
    from subscriptions
    cross join as_of

),

-- The same, as day counts: the window of ends, the history before it, the grid date before the first end.
end_days as (

    select
        ends.*,
        cast({{ end_window_days }} as {{ dbt.type_int() }}) as end_window_days,
        cast({{ history_days }} as {{ dbt.type_int() }}) as history_before_ends_days,
        cast({{ window_start }} as date) as window_start_date
    from ends

),

-- The churn window of the export: at least 10 ends, all in its last days, after a history twice as long.
churn_window as (

    select
        end_days.*,
        cast({{ window_horizon_days }} + 1 as {{ dbt.type_int() }}) as window_horizon_days,
        coalesce(
            end_days.ended_subscriptions >= 10
            and end_days.end_window_days < {{ max_window }}
            and end_days.history_before_ends_days >= {{ 2 * max_window }},
            false
        ) as is_churn_window
    from end_days

),

order_days as (

    select distinct
        customer_id,
        cast(ordered_at as date) as order_date
    from orders
    where
        customer_id is not null
        and ordered_at is not null
        and order_status != 'cancelled'

),

gaps as (

    select
        {{ dbt.datediff(
            'lag(order_date) over (partition by customer_id order by order_date)', 'order_date', 'day'
        ) }} as gap_days
    from order_days

),

stats as (

    select
        cast(count(gap_days) as {{ dbt.type_bigint() }}) as repeat_purchase_gaps,
        cast({{ percentile_cont('gap_days', 0.9) }} as {{ type_double() }}) as gap_days_p90
    from gaps

),

final as (

    select
        'churn' as horizon_id,
        {% if fixed -%}
        cast({{ fixed }} as {{ dbt.type_int() }}) as horizon_days,
        'var churn_horizon_days' as horizon_method,
        {%- else -%}
        cast(
            case
                when churn_window.is_churn_window then churn_window.window_horizon_days
                when stats.repeat_purchase_gaps < 100 or stats.gap_days_p90 is null then 90
                else least(greatest(ceiling(stats.gap_days_p90 / 30.0) * 30, 30), 180)
            end as {{ dbt.type_int() }}
        ) as horizon_days,
        case
            when churn_window.is_churn_window then 'churn window of the export (ends only at its end)'
            when stats.repeat_purchase_gaps < 100 or stats.gap_days_p90 is null
                then 'default (too few repeat purchases)'
            else 'p90 of repeat-purchase gaps'
        end as horizon_method,
        {%- endif %}
        cast({{ var('next_action_days', 30) }} as {{ dbt.type_int() }}) as next_action_days,
        stats.repeat_purchase_gaps,
        stats.gap_days_p90,
        case when churn_window.is_churn_window then churn_window.window_start_date end as labels_from_date
    from stats
    cross join churn_window

)

select * from final
