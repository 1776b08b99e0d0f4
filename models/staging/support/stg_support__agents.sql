{#- agent_name is personal data and is not carried: agents are identified by agent_id. -#}
with

source as (

    select * from {{ source_or_empty('support', 'agents') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by agent_id
            order by {{ latest_version_order('updated_at') }}
        ) as version_rank
    from source

),

final as (

    select
        agent_id,
        hired_at,
        updated_at,
        experience_years,
        nullif(lower(replace(skills, ' ', '')), '') as skills,
        nullif(lower(replace(languages, ' ', '')), '') as languages,
        lower(trim(team)) as team,
        qa_score,
        empathy_score,
        is_active,
        {{ extra_columns('support', 'agents') }}
        _loaded_at as loaded_at
    from ranked
    where version_rank = 1

)

select * from final
