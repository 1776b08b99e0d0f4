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
        created_at,
        updated_at,
        {{ hash_pii('email') }} as email_hash,
        nullif(trim(email), '') is not null as has_email,
        birth_year,
        lower(trim(age_band)) as age_band,
        lower(trim(gender)) as gender,
        upper(trim(country)) as country,
        lower(trim(language)) as language,
        nullif(trim(locale), '') as locale,
        nullif(trim(region), '') as region,
        lower(trim(segment)) as segment,
        nullif(trim(company_name), '') as company_name,
        nullif(trim(industry), '') as industry,
        lower(trim(company_size)) as company_size,
        lower(trim(acquisition_channel)) as acquisition_channel,
        {{ star_except(raw_customers, except=source_column_names('crm', 'customers') + this_model_columns) }}
        _loaded_at as loaded_at
    from ranked
    where version_rank = 1

)

select * from final
