{{ config(materialized='view', meta={"status_from": ["int_next_action_probabilities", "int_model_registry.churn"]}) }}

{#-
    The recommended next action per eligible customer; its rules are in
    int_next_actions (marts are leaves; its columns are the int model's).
-#}

with

next_actions as (

    select * from {{ ref('int_next_actions') }}

),

final as (

    select * from next_actions

)

select * from final  -- noqa: AM04
