with

source as (

    select * from {{ source_or_empty('support', 'chats') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by chat_id
            order by {{ latest_version_order() }}
        ) as version_rank
    from source

),

final as (

    select
        chat_id,
        customer_id,
        agent_id,
        started_at,
        ended_at,
        {{ dbt.datediff('started_at', 'ended_at', 'second') | trim }}
            as duration_seconds,
        wait_seconds,
        nullif(trim(customer_text), '') as customer_text,
        nullif(trim(agent_text), '') as agent_text,
        agent_id is null as is_bot,
        {{ extra_columns('support', 'chats') }}
        _loaded_at as loaded_at
    from ranked
    where version_rank = 1

)

select * from final
