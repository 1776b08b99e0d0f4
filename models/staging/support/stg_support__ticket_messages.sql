with

source as (

    select * from {{ source_or_empty('support', 'ticket_messages') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by message_id
            order by {{ latest_version_order() }}
        ) as version_rank
    from source

),

final as (

    select
        message_id,
        ticket_id,
        lower(trim(author_type)) as author_type,
        author_id,
        sent_at,
        nullif(trim(body), '') as message_body,
        {{ extra_columns('support', 'ticket_messages') }}
        _loaded_at as loaded_at
    from ranked
    where version_rank = 1

)

select * from final
