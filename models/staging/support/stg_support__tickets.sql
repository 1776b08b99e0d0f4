with

source as (

    select * from {{ source_or_empty('support', 'support_tickets') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by ticket_id
            order by {{ latest_version_order('updated_at') }}
        ) as version_rank
    from source

),

final as (

    select
        ticket_id,
        customer_id,
        created_at,
        updated_at,
        lower(trim(channel)) as ticket_channel,
        lower(trim(category)) as category,
        lower(trim(priority)) as priority,
        lower(trim(status)) as ticket_status,
        nullif(trim(subject), '') as subject,
        assigned_agent_id,
        first_response_at,
        resolved_at,
        {{ extra_columns('support', 'support_tickets') }}
        _loaded_at as loaded_at
    from ranked
    where version_rank = 1

)

select * from final
