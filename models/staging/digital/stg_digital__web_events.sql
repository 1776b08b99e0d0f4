with

source as (

    select * from {{ source_or_empty('digital', 'web_events') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by event_id
            order by {{ latest_version_order() }}
        ) as version_rank
    from source

),

final as (

    select
        event_id as web_event_id,
        session_id,
        customer_id,
        occurred_at,
        lower(trim(event_type)) as web_event_type,
        nullif(trim(page), '') as page,
        nullif(trim(search_terms), '') as search_terms,
        lower(trim(device)) as device,
        {{ extra_columns('digital', 'web_events') }}
        _loaded_at as loaded_at
    from ranked
    where version_rank = 1

)

select * from final
