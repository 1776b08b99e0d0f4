{#-
    The churn horizon H, one row: a customer counts as churned at snapshot t
    when they churn within [t, t + H). var('churn_horizon_days') fixes it;
    otherwise the data decides: the 90th percentile of the gaps between a
    customer's consecutive purchase days, rounded up to whole 30 days and kept
    within 30..180 days, so nine in ten returning customers come back within
    the horizon (DECISIONLOG.md). With fewer than 100 repeat gaps (a
    subscription business without orders, or a young shop) it is 90 days.
-#}
{%- set fixed = var('churn_horizon_days', none) -%}

with

orders as (

    select * from {{ ref('stg_commerce__orders') }}

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
                when repeat_purchase_gaps < 100 or gap_days_p90 is null then 90
                else least(greatest(ceiling(gap_days_p90 / 30.0) * 30, 30), 180)
            end as {{ dbt.type_int() }}
        ) as horizon_days,
        case
            when repeat_purchase_gaps < 100 or gap_days_p90 is null then 'default (too few repeat purchases)'
            else 'p90 of repeat-purchase gaps'
        end as horizon_method,
        {%- endif %}
        cast({{ var('next_action_days', 30) }} as {{ dbt.type_int() }}) as next_action_days,
        repeat_purchase_gaps,
        gap_days_p90
    from stats

)

select * from final
