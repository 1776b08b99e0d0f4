{{ config(materialized='view') }}

{#-
    The unified customer timeline; the union lives in int_interactions (marts
    are leaves; its columns are the int model's).
-#}

with

interactions as (

    select * from {{ ref('int_interactions') }}

),

final as (

    select * from interactions

)

select * from final  -- noqa: AM04
