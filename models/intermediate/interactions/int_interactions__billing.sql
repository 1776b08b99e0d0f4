with

payments as (

    select * from {{ ref('stg_commerce__payments') }}

),

subscriptions as (

    select * from {{ ref('stg_commerce__subscriptions') }}

),

failed_payments as (

    select
        'payment_failed' as interaction_type,
        customer_id,
        paid_at as occurred_at,
        null as ended_at,
        'payments' as source_table,
        payment_id as source_id,
        null as agent_id,
        null as ticket_id,
        order_id,
        subscription_id as related_id,
        payment_method as sub_channel,
        null as category,
        payment_status as outcome,
        amount as value,
        null as text
    from payments
    where payment_status = 'failed'

),

refunds as (

    select
        'refund_issued' as interaction_type,
        customer_id,
        paid_at as occurred_at,
        null as ended_at,
        'payments' as source_table,
        payment_id as source_id,
        null as agent_id,
        null as ticket_id,
        order_id,
        subscription_id as related_id,
        payment_method as sub_channel,
        null as category,
        payment_status as outcome,
        amount as value,
        null as text
    from payments
    where payment_status = 'refunded'

),

started as (

    select
        'subscription_started' as interaction_type,
        customer_id,
        started_at as occurred_at,
        null as ended_at,
        'subscriptions' as source_table,
        subscription_id as source_id,
        null as agent_id,
        null as ticket_id,
        null as order_id,
        subscription_id as related_id,
        null as sub_channel,
        plan as category,
        subscription_status as outcome,
        monthly_amount as value,
        null as text
    from subscriptions

),

-- A cancellation or expiry without an end date is dated at the record's last update.
ended as (

    select
        case subscription_status
            when 'cancelled' then 'subscription_cancelled'
            when 'expired' then 'subscription_expired'
        end as interaction_type,
        customer_id,
        coalesce(ended_at, updated_at) as occurred_at,
        null as ended_at,
        'subscriptions' as source_table,
        subscription_id as source_id,
        null as agent_id,
        null as ticket_id,
        null as order_id,
        subscription_id as related_id,
        null as sub_channel,
        plan as category,
        subscription_status as outcome,
        monthly_amount as value,
        case when subscription_status = 'cancelled' then cancel_reason end as text
    from subscriptions
    where
        subscription_status in ('cancelled', 'expired')
        and coalesce(ended_at, updated_at) is not null

),

price_changes as (

    select
        'subscription_price_changed' as interaction_type,
        customer_id,
        price_changed_at as occurred_at,
        null as ended_at,
        'subscriptions' as source_table,
        subscription_id as source_id,
        null as agent_id,
        null as ticket_id,
        null as order_id,
        subscription_id as related_id,
        null as sub_channel,
        plan as category,
        subscription_status as outcome,
        last_price_change_amount as value,
        null as text
    from subscriptions
    where price_changed_at is not null

),

unioned as (

    select * from failed_payments
    union all
    select * from refunds
    union all
    select * from started
    union all
    select * from ended
    union all
    select * from price_changes

),

final as (

    select {{ select_interaction_columns('unioned') }}
    from unioned

)

select * from final
