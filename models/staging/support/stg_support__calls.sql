with

source as (

    select * from {{ source_or_empty('support', 'calls') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by call_id
            order by {{ latest_version_order() }}
        ) as version_rank
    from source

),

final as (

    select
        call_id,
        customer_id,
        agent_id,
        started_at,
        {{ dbt.dateadd('second', 'coalesce(wait_seconds, 0) + duration_seconds', 'started_at') }} as ended_at,
        lower(trim(direction)) as call_direction,
        nullif(trim(queue), '') as queue,
        wait_seconds,
        duration_seconds,
        nullif(trim(transcript), '') as transcript,
        voice_pitch_var,
        voice_energy,
        speech_rate,
        lower(trim(outcome)) as call_outcome,
        {{ extra_columns('support', 'calls') }}
        _loaded_at as loaded_at
    from ranked
    where version_rank = 1

)

select * from final
