{{ config(materialized='table', meta={"status_from": ["int_customer_states__scored.state"]}) }}

{#-
    The emotional-state history: one row per customer-day of int_customer_days
    (eventful days, the day before each survey or review, the latest day),
    with the state the models estimated for it. Rows that int_customer_days
    no longer holds (an earlier build's latest day) are left out.
-#}
{%- set emotions = ['joy', 'sadness', 'anger', 'fear', 'surprise', 'disgust', 'neutral'] -%}

with

scored as (

    select * from {{ ref('int_customer_states__scored') }}

),

days as (

    select * from {{ ref('int_customer_days') }}

),

final as (

    select
        scored.customer_day_id,
        scored.customer_id,
        scored.state_date,
        days.is_eventful,
        days.is_latest,
        days.lifecycle_stage,
        scored.valence,
        scored.valence_low,
        scored.valence_high,
        scored.arousal,
        {%- for emotion in emotions %}
        scored.p_{{ emotion }},
        {%- endfor %}
        scored.dominant_emotion,
        scored.empathy_score,
        scored.empathy_score_low,
        scored.empathy_score_high,
        scored.confidence,
        {{ empathy_band('scored.empathy_score') }} as empathy_band,
        case when scored.driver_1_points is not null then scored.driver_1_label end as top_driver,
        scored.driver_1_points as top_driver_points,
        case when scored.driver_1_points is not null then scored.driver_1_evidence end as top_driver_evidence,
        scored.model_version
    from scored
    inner join days
        on scored.customer_day_id = days.customer_day_id

)

select * from final
