with

orders as (

    select * from {{ ref('stg_commerce__orders') }}

),

order_items as (

    select * from {{ ref('stg_commerce__order_items') }}

),

shipments as (

    select * from {{ ref('stg_commerce__shipments') }}

),

item_returns as (

    select
        order_id,
        min(returned_at) as first_returned_at,
        sum(line_total) as returned_amount,
        min(return_reason) as return_reason
    from order_items
    where returned_at is not null
    group by order_id

),

-- An order counts as returned when it has returned lines or its status says so.
returned_orders as (

    select order_id from item_returns
    union
    select order_id from orders
    where order_status = 'returned'

),

placed as (

    select
        'order_placed' as interaction_type,
        customer_id,
        ordered_at as occurred_at,
        null as ended_at,
        'orders' as source_table,
        order_id as source_id,
        null as agent_id,
        null as ticket_id,
        order_id,
        null as related_id,
        order_channel as sub_channel,
        null as category,
        order_status as outcome,
        order_total as value,
        null as text
    from orders

),

cancelled as (

    select
        'order_cancelled' as interaction_type,
        customer_id,
        coalesce(updated_at, ordered_at) as occurred_at,
        null as ended_at,
        'orders' as source_table,
        order_id as source_id,
        null as agent_id,
        null as ticket_id,
        order_id,
        null as related_id,
        order_channel as sub_channel,
        null as category,
        order_status as outcome,
        order_total as value,
        null as text
    from orders
    where order_status = 'cancelled'

),

returned as (

    select
        'order_returned' as interaction_type,
        orders.customer_id,
        coalesce(item_returns.first_returned_at, orders.updated_at, orders.ordered_at) as occurred_at,
        null as ended_at,
        case when item_returns.order_id is null then 'orders' else 'order_items' end as source_table,
        returned_orders.order_id as source_id,
        null as agent_id,
        null as ticket_id,
        returned_orders.order_id,
        null as related_id,
        orders.order_channel as sub_channel,
        item_returns.return_reason as category,
        orders.order_status as outcome,
        coalesce(item_returns.returned_amount, orders.order_total) as value,
        null as text
    from returned_orders
    left join item_returns
        on returned_orders.order_id = item_returns.order_id
    left join orders
        on returned_orders.order_id = orders.order_id

),

delivered as (

    select
        'order_delivered' as interaction_type,
        orders.customer_id,
        shipments.delivered_at as occurred_at,
        null as ended_at,
        'shipments' as source_table,
        shipments.shipment_id as source_id,
        null as agent_id,
        null as ticket_id,
        shipments.order_id,
        shipments.shipment_id as related_id,
        orders.order_channel as sub_channel,
        shipments.carrier as category,
        case
            when shipments.delivery_delay_hours > 0 then 'late'
            when shipments.delivery_delay_hours <= 0 then 'on_time'
        end as outcome,
        shipments.delivery_delay_hours as value,
        null as text
    from shipments
    left join orders
        on shipments.order_id = orders.order_id
    where shipments.delivered_at is not null

),

unioned as (

    select * from placed
    union all
    select * from cancelled
    union all
    select * from returned
    union all
    select * from delivered

),

final as (

    select {{ select_interaction_columns('unioned') }}
    from unioned

)

select * from final
