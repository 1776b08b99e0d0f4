with

email_events as (

    select * from {{ ref('stg_marketing__email_events') }}

),

events as (

    select
        {{ dbt.concat(["'email_'", 'email_event_type']) }} as interaction_type,
        customer_id,
        occurred_at,
        null as ended_at,
        'email_events' as source_table,
        email_event_id as source_id,
        null as agent_id,
        null as ticket_id,
        null as order_id,
        campaign_id as related_id,
        null as sub_channel,
        campaign_type as category,
        null as outcome,
        null as value,
        null as text
    from email_events

),

final as (

    select {{ select_interaction_columns('events') }}
    from events

)

select * from final
