{#-
    Columns the company sent beyond the contract (and beyond the load
    metadata) are carried through as candidate features (macro
    extra_columns: named, from the gate's registry audit.extra_columns).
-#}

with

source as (

    select * from {{ source_or_empty('crm', 'customers') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by customer_id
            order by {{ latest_version_order('updated_at') }}
        ) as version_rank
    from source

),

final as (

    select
        customer_id,
        {{ crm_customer_columns() }}
        {{ extra_columns('crm', 'customers') }}
        _loaded_at as loaded_at
    from ranked
    where version_rank = 1

)

select * from final
