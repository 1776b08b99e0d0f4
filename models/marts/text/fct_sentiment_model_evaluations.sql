{{ config(
    materialized='view',
    meta={"status_of": "int_sentiment_model_evaluations"},
) }}

{#-
    The company's sentiment models against the generic one; fitted in
    int_sentiment_model_evaluations (marts are leaves; its columns are the int model's).
-#}

with

evaluations as (

    select * from {{ ref('int_sentiment_model_evaluations') }}

),

final as (

    select * from evaluations

)

select * from final  -- noqa: AM04
