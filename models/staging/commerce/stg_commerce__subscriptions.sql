{#-
    Columns the company sent beyond the contract (and beyond the load
    metadata) are carried through as candidate features, after the contract
    columns.
-#}

with

source as (

    select * from {{ source_or_empty('commerce', 'subscriptions') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by subscription_id
            order by {{ latest_version_order('updated_at') }}
        ) as version_rank
    from source

),

final as (

    select
        subscription_id,
        {{ subscription_columns() }}
        {{ extra_columns('commerce', 'subscriptions') }}
        _loaded_at as loaded_at
    from ranked
    where version_rank = 1

)

select * from final
