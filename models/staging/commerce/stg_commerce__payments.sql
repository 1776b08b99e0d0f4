with

source as (

    select * from {{ source_or_empty('commerce', 'payments') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by payment_id
            order by {{ latest_version_order() }}
        ) as version_rank
    from source

),

final as (

    select
        payment_id,
        customer_id,
        order_id,
        subscription_id,
        paid_at,
        amount,
        upper(trim(currency)) as currency,
        lower(trim(method)) as payment_method,
        lower(trim(status)) as payment_status,
        {{ extra_columns('commerce', 'payments') }}
        _loaded_at as loaded_at
    from ranked
    where version_rank = 1

)

select * from final
