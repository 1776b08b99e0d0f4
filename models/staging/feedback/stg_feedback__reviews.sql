with

source as (

    select * from {{ source_or_empty('feedback', 'reviews') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by review_id
            order by {{ latest_version_order() }}
        ) as version_rank
    from source

),

final as (

    select
        review_id,
        customer_id,
        product_id,
        created_at,
        rating,
        nullif(trim(title), '') as review_title,
        nullif(trim(body), '') as review_body,
        lower(trim(language)) as review_language,
        {{ extra_columns('feedback', 'reviews') }}
        _loaded_at as loaded_at
    from ranked
    where version_rank = 1

)

select * from final
