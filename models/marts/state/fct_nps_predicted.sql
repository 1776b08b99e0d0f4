{{ config(
    materialized='view',
    meta={"status_from": ["int_customer_states__scored.state", "int_customer_states__scored.nps"]},
) }}

{#-
    Predicted NPS per customer on their latest day; built in int_nps_predicted
    (marts are leaves; its columns are the int model's).
-#}

with

nps_predicted as (

    select * from {{ ref('int_nps_predicted') }}

),

final as (

    select * from nps_predicted

)

select * from final  -- noqa: AM04
