with

web_sessions as (

    select * from {{ ref('int_web_sessions') }}

),

sessions as (

    select
        'web_session' as interaction_type,
        customer_id,
        started_at as occurred_at,
        ended_at,
        'web_events' as source_table,
        session_id as source_id,
        null as agent_id,
        null as ticket_id,
        null as order_id,
        null as related_id,
        device as sub_channel,
        null as category,
        null as outcome,
        event_count as value,
        search_terms as text
    from web_sessions

),

final as (

    select {{ select_interaction_columns('sessions') }}
    from sessions

)

select * from final
