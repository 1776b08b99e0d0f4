with

source as (

    select * from {{ source_or_empty('commerce', 'orders') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by order_id
            order by {{ latest_version_order('updated_at') }}
        ) as version_rank
    from source

),

final as (

    select
        order_id,
        customer_id,
        ordered_at,
        updated_at,
        lower(trim(status)) as order_status,
        lower(trim(channel)) as order_channel,
        upper(trim(currency)) as currency,
        order_total,
        discount_amount,
        {{ extra_columns('commerce', 'orders') }}
        _loaded_at as loaded_at
    from ranked
    where version_rank = 1

)

select * from final
