with

source as (

    select * from {{ source_or_empty('commerce', 'order_items') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by order_item_id
            order by {{ latest_version_order('updated_at') }}
        ) as version_rank
    from source

),

final as (

    select
        order_item_id,
        order_id,
        ordered_at,
        updated_at,
        product_id,
        lower(trim(product_category)) as product_category,
        quantity,
        unit_price,
        quantity * unit_price as line_total,
        is_defective,
        returned_at,
        returned_at is not null as is_returned,
        lower(trim(return_reason)) as return_reason,
        {{ extra_columns('commerce', 'order_items') }}
        _loaded_at as loaded_at
    from ranked
    where version_rank = 1

)

select * from final
