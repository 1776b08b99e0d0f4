with

source as (

    select * from {{ source_or_empty('crm', 'consents') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by consent_id
            order by {{ latest_version_order('updated_at') }}
        ) as version_rank
    from source

),

final as (

    select
        consent_id,
        customer_id,
        lower(trim(channel)) as consent_channel,
        lower(trim(purpose)) as consent_purpose,
        granted_at,
        revoked_at,
        updated_at,
        nullif(trim(source_system), '') as source_system,
        revoked_at is not null as is_revoked,
        {{ extra_columns('crm', 'consents') }}
        _loaded_at as loaded_at
    from ranked
    where version_rank = 1

)

select * from final
