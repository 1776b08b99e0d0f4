{#- author_handle is personal data: only its hash is carried (to link posts by the same author). -#}
with

source as (

    select * from {{ source_or_empty('feedback', 'social_mentions') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by mention_id
            order by {{ latest_version_order() }}
        ) as version_rank
    from source

),

final as (

    select
        mention_id,
        lower(trim(platform)) as platform,
        {{ hash_pii('author_handle') }} as author_handle_hash,
        customer_id,
        posted_at,
        nullif(trim(text), '') as mention_text,
        nullif(trim(url), '') as url,
        {{ extra_columns('feedback', 'social_mentions') }}
        _loaded_at as loaded_at
    from ranked
    where version_rank = 1

)

select * from final
