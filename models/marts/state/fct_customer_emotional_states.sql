{{ config(
    materialized='view',
    meta={"status_from": ["int_customer_states__scored.state"]},
) }}

{#-
    The emotional-state history, one row per customer-day; built in
    int_customer_emotional_states (marts are leaves; its columns are the int model's).
-#}

with

emotional_states as (

    select * from {{ ref('int_customer_emotional_states') }}

),

final as (

    select * from emotional_states

)

select * from final  -- noqa: AM04
