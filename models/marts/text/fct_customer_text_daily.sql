{{ config(materialized='view', meta={"status_from": ["int_text_signals__scored.text_scoring"]}) }}

{#-
    Each customer's texts per UTC day; aggregated in int_customer_text_daily
    (marts are leaves; its columns are the int model's).
-#}

with

customer_text_daily as (

    select * from {{ ref('int_customer_text_daily') }}

),

final as (

    select * from customer_text_daily

)

select * from final  -- noqa: AM04
