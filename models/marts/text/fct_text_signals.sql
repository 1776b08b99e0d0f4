{{ config(
    materialized='view',
    meta={"status_of": "int_text_signals", "status_from": ["int_text_signals__scored.text_scoring"]},
) }}

{#-
    The text signals of each customer text; computed in int_text_signals (marts
    are leaves; its columns are the int model's).
-#}

with

text_signals as (

    select * from {{ ref('int_text_signals') }}

),

final as (

    select * from text_signals

)

select * from final  -- noqa: AM04
