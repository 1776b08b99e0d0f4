with

source as (

    select * from {{ source_or_empty('marketing', 'treatment_exposures') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by exposure_id
            order by {{ latest_version_order() }}
        ) as version_rank
    from source

),

final as (

    select
        exposure_id,
        customer_id,
        lower(trim(treatment_id)) as treatment_id,
        lower(trim(experiment_id)) as experiment_id,
        lower(trim(arm)) as experiment_arm,
        lower(trim(channel)) as channel,
        exposed_at,
        {{ extra_columns('marketing', 'treatment_exposures') }}
        _loaded_at as loaded_at
    from ranked
    where version_rank = 1

)

select * from final
