{{ config(materialized='view') }}

{#-
    One row per customer; built in int_customers (marts are leaves; its columns
    are the int model's).
-#}

with

customers as (

    select * from {{ ref('int_customers') }}

),

final as (

    select * from customers

)

select * from final  -- noqa: AM04
