{#-
    Every version of every subscription, with the period it was current:
    [valid_from, valid_to). Point-in-time features read the version current
    at their snapshot date: its price, its plan, whether it had ended, and the
    columns a company sent beyond the contract, as they were then. Columns as
    in stg_commerce__subscriptions.
-#}

with

source as (

    select * from {{ source_or_empty('commerce', 'subscriptions') }}

),

-- one row per distinct version: a version re-sent in a later file counts once
ranked as (

    select
        *,
        row_number() over (
            partition by subscription_id, updated_at
            order by {{ latest_version_order() }}
        ) as version_rank
    from source

),

versions as (

    select
        *,
        row_number() over (
            partition by subscription_id
            order by updated_at nulls first
        ) as version_number,
        lead(updated_at) over (
            partition by subscription_id
            order by updated_at nulls first
        ) as next_updated_at
    from ranked
    where version_rank = 1

),

final as (

    select
        {{ dbt.concat(['subscription_id', "':'", 'cast(version_number as ' ~ dbt.type_string() ~ ')']) }}
            as subscription_version_id,
        subscription_id,
        version_number,
        coalesce(updated_at, started_at) as valid_from,
        next_updated_at as valid_to,
        {{ subscription_columns() }}
        {{ extra_columns('commerce', 'subscriptions') }}
        _loaded_at as loaded_at
    from versions

)

select * from final
