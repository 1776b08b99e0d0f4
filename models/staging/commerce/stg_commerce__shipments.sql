with

source as (

    select * from {{ source_or_empty('commerce', 'shipments') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by shipment_id
            order by {{ latest_version_order('updated_at') }}
        ) as version_rank
    from source

),

final as (

    select
        shipment_id,
        order_id,
        nullif(trim(carrier), '') as carrier,
        shipped_at,
        promised_delivery_at,
        delivered_at,
        updated_at,
        delivered_at is not null as is_delivered,
        {{ dbt.datediff('promised_delivery_at', 'delivered_at', 'minute') | trim }} / 60.0
            as delivery_delay_hours,
        {{ extra_columns('commerce', 'shipments') }}
        _loaded_at as loaded_at
    from ranked
    where version_rank = 1

)

select * from final
