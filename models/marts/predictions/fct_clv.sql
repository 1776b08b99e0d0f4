{{ config(materialized='view', meta={"status_of": "int_clv"}) }}

{#-
    Customer lifetime value on the scoring date; computed in int_clv (marts are
    leaves; its columns are the int model's).
-#}

with

clv as (

    select * from {{ ref('int_clv') }}

),

final as (

    select * from clv

)

select * from final  -- noqa: AM04
