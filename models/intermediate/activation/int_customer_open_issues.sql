{{ config(materialized='table') }}

{#-
    The concrete issues a customer has as of the scoring date (int_as_of_date),
    for the outreach line and the reason codes: one row per customer with at
    least one. The latest open ticket (topic and age), the latest late or
    overdue delivery of the last var outreach_issue_days days (order and days
    late) and the latest failed payment in that window (amount, currency, age).
-#}
{%- set window = var('outreach_issue_days', 30) -%}

with

tickets as (

    select * from {{ ref('stg_support__tickets') }}

),

orders as (

    select * from {{ ref('stg_commerce__orders') }}

),

shipments as (

    select * from {{ ref('stg_commerce__shipments') }}

),

payments as (

    select * from {{ ref('stg_commerce__payments') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

-- Tickets opened before the as-of day and not resolved by then; the newest per customer.
open_tickets as (

    select
        tickets.customer_id,
        tickets.ticket_id,
        coalesce(tickets.category, 'support') as ticket_topic,
        cast(
            {{ dbt.datediff('cast(tickets.created_at as date)', 'as_of.as_of_date', 'day') }}
            as {{ dbt.type_int() }}
        ) as ticket_open_days,
        row_number() over (
            partition by tickets.customer_id order by tickets.created_at desc, tickets.ticket_id desc
        ) as ticket_rank
    from tickets
    cross join as_of
    where
        cast(tickets.created_at as date) < as_of.as_of_date
        and (tickets.resolved_at is null or cast(tickets.resolved_at as date) >= as_of.as_of_date)
        and coalesce(tickets.ticket_status, 'open') not in ('solved', 'closed')

),

-- Deliveries late (or still overdue) promised within the window; the newest per customer.
late_deliveries as (

    select
        orders.customer_id,
        orders.order_id,
        cast(
            {{ dbt.datediff(
                'cast(shipments.promised_delivery_at as date)',
                'coalesce(cast(shipments.delivered_at as date), as_of.latest_data_date)',
                'day'
            ) }} as {{ dbt.type_int() }}
        ) as late_days,
        shipments.delivered_at is null
        or cast(shipments.delivered_at as date) >= as_of.as_of_date as is_still_overdue,
        row_number() over (
            partition by orders.customer_id order by shipments.promised_delivery_at desc, orders.order_id desc
        ) as delivery_rank
    from shipments
    inner join orders
        on shipments.order_id = orders.order_id
    cross join as_of
    where
        cast(shipments.promised_delivery_at as date) < as_of.as_of_date
        and cast(shipments.promised_delivery_at as date)
        >= cast({{ dbt.dateadd('day', -window, 'as_of.as_of_date') }} as date)
        and coalesce(cast(shipments.delivered_at as date), as_of.latest_data_date)
        > cast(shipments.promised_delivery_at as date)

),

-- Failed payments in the window; the newest per customer.
failed_payments as (

    select
        payments.customer_id,
        payments.amount as failed_payment_amount,
        payments.currency as failed_payment_currency,
        cast(
            {{ dbt.datediff('cast(payments.paid_at as date)', 'as_of.as_of_date', 'day') }}
            as {{ dbt.type_int() }}
        ) as failed_payment_days_ago,
        row_number() over (
            partition by payments.customer_id order by payments.paid_at desc, payments.payment_id desc
        ) as payment_rank
    from payments
    cross join as_of
    where
        payments.payment_status = 'failed'
        and cast(payments.paid_at as date) < as_of.as_of_date
        and cast(payments.paid_at as date)
        >= cast({{ dbt.dateadd('day', -window, 'as_of.as_of_date') }} as date)

),

issue_customers as (

    select customer_id from open_tickets
    where ticket_rank = 1
    union
    select customer_id from late_deliveries
    where delivery_rank = 1
    union
    select customer_id from failed_payments
    where payment_rank = 1

),

final as (

    select
        issue_customers.customer_id,
        open_tickets.ticket_id as open_ticket_id,
        open_tickets.ticket_topic as open_ticket_topic,
        open_tickets.ticket_open_days as open_ticket_days,
        late_deliveries.order_id as late_order_id,
        late_deliveries.late_days as late_order_days,
        late_deliveries.is_still_overdue as is_late_order_still_overdue,
        failed_payments.failed_payment_amount,
        failed_payments.failed_payment_currency,
        failed_payments.failed_payment_days_ago
    from issue_customers
    left join open_tickets
        on issue_customers.customer_id = open_tickets.customer_id and open_tickets.ticket_rank = 1
    left join late_deliveries
        on issue_customers.customer_id = late_deliveries.customer_id and late_deliveries.delivery_rank = 1
    left join failed_payments
        on issue_customers.customer_id = failed_payments.customer_id and failed_payments.payment_rank = 1

)

select * from final
