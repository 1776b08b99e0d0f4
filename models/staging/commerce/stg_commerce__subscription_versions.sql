{#-
    Every version of every subscription, with the period it was current:
    [valid_from, valid_to). Point-in-time features read the version current
    at their snapshot date: its price, its plan, whether it had ended, and the
    columns a company sent beyond the contract, as they were then. Columns as
    in stg_commerce__subscriptions.

    Two export shapes, told apart per subscription (docs/raw_contract.md):
    * current state: one row per subscription (start, end and price-change
      timestamps; updated_at often the cancellation time). Its only version is
      valid from started_at: before ended_at it was active and before
      price_changed_at it cost previous_monthly_amount, which is how
      int_customer_snapshots reads it. Valid from updated_at it would not exist
      before its cancellation, and its churn would never be seen.
    * change history: several rows per subscription, one per version, each
      valid from its updated_at; the first from started_at (the state before
      the first recorded change is reconstructed the same way).
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
        ) as next_updated_at,
        count(*) over (partition by subscription_id) as n_versions
    from ranked
    where version_rank = 1

),

final as (

    select
        {{ dbt.concat(['subscription_id', "':'", 'cast(version_number as ' ~ dbt.type_string() ~ ')']) }}
            as subscription_version_id,
        subscription_id,
        version_number,
        case
            when version_number = 1 then started_at
            else coalesce(updated_at, started_at)
        end as valid_from,
        next_updated_at as valid_to,
        case when n_versions = 1 then 'current_state' else 'change_history' end as export_shape,
        {{ subscription_columns() }}
        {{ extra_columns('commerce', 'subscriptions') }}
        _loaded_at as loaded_at
    from versions

)

select * from final
