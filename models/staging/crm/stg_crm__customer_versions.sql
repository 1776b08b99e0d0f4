{#-
    Every version of every CRM customer record, with the period it was
    current: [valid_from, valid_to). Point-in-time features (churn and
    next-action training sets) read the version current at their snapshot
    date, so an attribute that changed later (a loyalty upgrade, a new
    household size) never leaks into an earlier snapshot. Columns as in
    stg_crm__customers, including the columns a company sent beyond the
    contract.
-#}

with

source as (

    select * from {{ source_or_empty('crm', 'customers') }}

),

-- one row per distinct version: a version re-sent in a later file counts once
ranked as (

    select
        *,
        row_number() over (
            partition by customer_id, updated_at
            order by {{ latest_version_order() }}
        ) as version_rank
    from source

),

versions as (

    select
        *,
        row_number() over (
            partition by customer_id
            order by updated_at nulls first
        ) as version_number,
        lead(updated_at) over (
            partition by customer_id
            order by updated_at nulls first
        ) as next_updated_at
    from ranked
    where version_rank = 1

),

final as (

    select
        {{ dbt.concat(['customer_id', "':'", 'cast(version_number as ' ~ dbt.type_string() ~ ')']) }}
            as customer_version_id,
        customer_id,
        version_number,
        coalesce(updated_at, created_at) as valid_from,
        next_updated_at as valid_to,
        {{ crm_customer_columns() }}
        {{ extra_columns('crm', 'customers') }}
        _loaded_at as loaded_at
    from versions

)

select * from final
