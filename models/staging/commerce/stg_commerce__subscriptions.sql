{#-
    Columns the company sent beyond the contract (and beyond the load
    metadata) are carried through as candidate features, after the contract
    columns.
-#}
{%- set raw_subscriptions = source('commerce', 'subscriptions') -%}
{%- set this_model_columns = [
    'last_price_change_amount', 'subscription_status', 'loaded_at', 'version_rank',
] -%}

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
        {{ star_except(
            raw_subscriptions, except=source_column_names('commerce', 'subscriptions') + this_model_columns
        ) }}
        _loaded_at as loaded_at
    from ranked
    where version_rank = 1

)

select * from final
