{{ config(materialized='view', meta={"status_from": ["int_model_registry.churn"]}) }}

{#-
    Daily churn scores, one row per customer and scoring day; scored in
    int_churn_scores (marts are leaves; its columns are the int model's).
-#}

with

churn_scores as (

    select * from {{ ref('int_churn_scores') }}

),

final as (

    select * from churn_scores

)

select * from final  -- noqa: AM04
