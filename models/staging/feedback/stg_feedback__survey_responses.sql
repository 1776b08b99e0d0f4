with

source as (

    select * from {{ source_or_empty('feedback', 'survey_responses') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by response_id
            order by {{ latest_version_order() }}
        ) as version_rank
    from source

),

cleaned as (

    select
        response_id,
        invitation_id,
        customer_id,
        lower(trim(survey_type)) as survey_type,
        responded_at,
        score,
        nullif(trim(comment), '') as comment,
        {{ extra_columns('feedback', 'survey_responses') }}
        _loaded_at as loaded_at
    from ranked
    where version_rank = 1

),

final as (

    select
        response_id,
        invitation_id,
        customer_id,
        survey_type,
        responded_at,
        score,
        case
            when survey_type = 'nps' then score / 10.0
            when survey_type = 'csat' then (score - 1) / 4.0
        end as score_scaled,
        case
            when survey_type != 'nps' then null
            when score >= 9 then 'promoter'
            when score >= 7 then 'passive'
            else 'detractor'
        end as nps_group,
        comment,
        loaded_at
    from cleaned

)

select * from final
