with

source as (

    select * from {{ source_or_empty('marketing', 'email_events') }}

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
        event_id as email_event_id,
        customer_id,
        campaign_id,
        lower(trim(campaign_type)) as campaign_type,
        lower(trim(event_type)) as email_event_type,
        occurred_at,
        {{ extra_columns('marketing', 'email_events') }}
        _loaded_at as loaded_at
    from ranked
    where version_rank = 1

)

select * from final
