-- Each interaction type has exactly as many rows in fct_interactions as the
-- staging rows it is built from: the business rules of the intermediate
-- models, restated independently.
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

payments as (

    select * from {{ ref('stg_commerce__payments') }}

),

subscriptions as (

    select * from {{ ref('stg_commerce__subscriptions') }}

),

tickets as (

    select * from {{ ref('stg_support__tickets') }}

),

ticket_messages as (

    select * from {{ ref('stg_support__ticket_messages') }}

),

chats as (

    select * from {{ ref('stg_support__chats') }}

),

calls as (

    select * from {{ ref('stg_support__calls') }}

),

email_events as (

    select * from {{ ref('stg_marketing__email_events') }}

),

web_events as (

    select * from {{ ref('stg_digital__web_events') }}

),

survey_invitations as (

    select * from {{ ref('stg_feedback__survey_invitations') }}

),

survey_responses as (

    select * from {{ ref('stg_feedback__survey_responses') }}

),

reviews as (

    select * from {{ ref('stg_feedback__reviews') }}

),

social_mentions as (

    select * from {{ ref('stg_feedback__social_mentions') }}

),

interactions as (

    select * from {{ ref('fct_interactions') }}

),

returned_orders as (

    select order_id from order_items
    where returned_at is not null
    union
    select order_id from orders
    where order_status = 'returned'

),

expected_rows as (

    select
        'order_placed' as interaction_type,
        count(*) as row_count
    from orders
    union all
    select
        'order_cancelled' as interaction_type,
        count(*) as row_count
    from orders
    where order_status = 'cancelled'
    union all
    select
        'order_returned' as interaction_type,
        count(*) as row_count
    from returned_orders
    union all
    select
        'order_delivered' as interaction_type,
        count(*) as row_count
    from shipments
    where delivered_at is not null
    union all
    select
        'payment_failed' as interaction_type,
        count(*) as row_count
    from payments
    where payment_status = 'failed'
    union all
    select
        'refund_issued' as interaction_type,
        count(*) as row_count
    from payments
    where payment_status = 'refunded'
    union all
    select
        'subscription_started' as interaction_type,
        count(*) as row_count
    from subscriptions
    union all
    select
        'subscription_cancelled' as interaction_type,
        count(*) as row_count
    from subscriptions
    where
        subscription_status = 'cancelled'
        and coalesce(ended_at, updated_at) is not null
    union all
    select
        'subscription_expired' as interaction_type,
        count(*) as row_count
    from subscriptions
    where
        subscription_status = 'expired'
        and coalesce(ended_at, updated_at) is not null
    union all
    select
        'subscription_price_changed' as interaction_type,
        count(*) as row_count
    from subscriptions
    where price_changed_at is not null
    union all
    select
        'ticket_opened' as interaction_type,
        count(*) as row_count
    from tickets
    union all
    select
        'ticket_resolved' as interaction_type,
        count(*) as row_count
    from tickets
    where resolved_at is not null
    union all
    select
        'ticket_message' as interaction_type,
        count(*) as row_count
    from ticket_messages
    where author_type = 'customer'
    union all
    select
        'ticket_reply' as interaction_type,
        count(*) as row_count
    from ticket_messages
    where author_type = 'agent'
    union all
    select
        'ticket_notice' as interaction_type,
        count(*) as row_count
    from ticket_messages
    where author_type = 'system'
    union all
    select
        'chat' as interaction_type,
        count(*) as row_count
    from chats
    union all
    select
        'call_inbound' as interaction_type,
        count(*) as row_count
    from calls
    where call_direction = 'inbound'
    union all
    select
        'call_outbound' as interaction_type,
        count(*) as row_count
    from calls
    where call_direction = 'outbound'
    union all
    select
        {{ dbt.concat(["'email_'", 'email_event_type']) }} as interaction_type,
        count(*) as row_count
    from email_events
    group by email_event_type
    union all
    select
        'web_session' as interaction_type,
        count(distinct session_id) as row_count
    from web_events
    union all
    select
        'survey_invited' as interaction_type,
        count(*) as row_count
    from survey_invitations
    union all
    select
        'survey_response' as interaction_type,
        count(*) as row_count
    from survey_responses
    union all
    select
        'review' as interaction_type,
        count(*) as row_count
    from reviews
    union all
    select
        'social_mention' as interaction_type,
        count(*) as row_count
    from social_mentions

),

expected as (

    select
        interaction_type,
        sum(row_count) as expected_rows
    from expected_rows
    group by interaction_type

),

actual as (

    select
        interaction_type,
        count(*) as actual_rows
    from interactions
    group by interaction_type

),

compared as (

    select
        coalesce(expected.interaction_type, actual.interaction_type) as interaction_type,
        coalesce(expected.expected_rows, 0) as expected_rows,
        coalesce(actual.actual_rows, 0) as actual_rows
    from expected
    full outer join actual
        on expected.interaction_type = actual.interaction_type

)

select *
from compared
where expected_rows != actual_rows
