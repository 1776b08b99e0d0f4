with

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

opened as (

    select
        'ticket_opened' as interaction_type,
        customer_id,
        created_at as occurred_at,
        null as ended_at,
        'support_tickets' as source_table,
        ticket_id as source_id,
        assigned_agent_id as agent_id,
        ticket_id,
        null as order_id,
        null as related_id,
        ticket_channel as sub_channel,
        category,
        ticket_status as outcome,
        null as value,
        subject as text
    from tickets

),

resolved as (

    select
        'ticket_resolved' as interaction_type,
        customer_id,
        resolved_at as occurred_at,
        null as ended_at,
        'support_tickets' as source_table,
        ticket_id as source_id,
        assigned_agent_id as agent_id,
        ticket_id,
        null as order_id,
        null as related_id,
        ticket_channel as sub_channel,
        category,
        ticket_status as outcome,
        {{ dbt.datediff('created_at', 'resolved_at', 'minute') | trim }} / 60.0 as value,
        null as text
    from tickets
    where resolved_at is not null

),

-- Customer messages are inbound and carry their text; agent replies and system notices are outbound.
-- The text column only ever holds what the customer wrote, so replies and notices carry none (it stays
-- in staging).
messages as (

    select
        case ticket_messages.author_type
            when 'customer' then 'ticket_message'
            when 'agent' then 'ticket_reply'
            when 'system' then 'ticket_notice'
        end as interaction_type,
        coalesce(
            tickets.customer_id,
            case when ticket_messages.author_type = 'customer' then ticket_messages.author_id end
        ) as customer_id,
        ticket_messages.sent_at as occurred_at,
        null as ended_at,
        'ticket_messages' as source_table,
        ticket_messages.message_id as source_id,
        case
            when ticket_messages.author_type = 'agent' then ticket_messages.author_id
            else tickets.assigned_agent_id
        end as agent_id,
        ticket_messages.ticket_id,
        null as order_id,
        null as related_id,
        tickets.ticket_channel as sub_channel,
        tickets.category,
        null as outcome,
        null as value,
        case when ticket_messages.author_type = 'customer' then ticket_messages.message_body end as text
    from ticket_messages
    left join tickets
        on ticket_messages.ticket_id = tickets.ticket_id

),

chat_sessions as (

    select
        'chat' as interaction_type,
        customer_id,
        started_at as occurred_at,
        ended_at,
        'chats' as source_table,
        chat_id as source_id,
        agent_id,
        null as ticket_id,
        null as order_id,
        null as related_id,
        case when is_bot then 'bot' else 'agent' end as sub_channel,
        null as category,
        null as outcome,
        wait_seconds as value,
        customer_text as text
    from chats

),

phone_calls as (

    select
        case call_direction
            when 'inbound' then 'call_inbound'
            when 'outbound' then 'call_outbound'
        end as interaction_type,
        customer_id,
        started_at as occurred_at,
        ended_at,
        'calls' as source_table,
        call_id as source_id,
        agent_id,
        null as ticket_id,
        null as order_id,
        null as related_id,
        null as sub_channel,
        queue as category,
        call_outcome as outcome,
        wait_seconds as value,
        transcript as text
    from calls

),

unioned as (

    select * from opened
    union all
    select * from resolved
    union all
    select * from messages
    union all
    select * from chat_sessions
    union all
    select * from phone_calls

),

final as (

    select {{ select_interaction_columns('unioned') }}
    from unioned

)

select * from final
