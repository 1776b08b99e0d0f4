with

source as (

    select * from {{ source_or_empty('feedback', 'survey_invitations') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by invitation_id
            order by {{ latest_version_order() }}
        ) as version_rank
    from source

),

final as (

    select
        invitation_id,
        customer_id,
        lower(trim(survey_type)) as survey_type,
        sent_at,
        lower(trim(channel)) as invitation_channel,
        lower(trim(trigger)) as invitation_trigger,
        related_id,
        {{ extra_columns('feedback', 'survey_invitations') }}
        _loaded_at as loaded_at
    from ranked
    where version_rank = 1

)

select * from final
