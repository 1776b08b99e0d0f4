{#-
    Columns the company sent beyond the contract (and beyond the load
    metadata) are carried through as candidate features. One whose name
    collides with a column of this model is dropped.
-#}
{%- set raw_customers = source('crm', 'customers') -%}
{%- set this_model_columns = [
    'email_hash', 'has_email', 'loaded_at', 'version_rank',
] -%}

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
        {{ star_except(raw_customers, except=source_column_names('crm', 'customers') + this_model_columns) }}
        _loaded_at as loaded_at
    from ranked
    where version_rank = 1

)

select * from final
