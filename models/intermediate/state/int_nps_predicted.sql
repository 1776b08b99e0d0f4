{{ config(materialized='table', meta={"status_from": [
    "int_customer_states__scored.state",
    "int_customer_states__scored.nps"
]}) }}

{#-
    Predicted NPS for every customer on their latest day, responders and
    non-responders side by side: the models learn from answers reweighted by
    the inverse of the response propensity, so non-responders get an honest
    estimate rather than the respondents' average. `nps_contribution` is
    100 * (P(promoter) - P(detractor)); its mean over a group is that group's
    predicted NPS.
-#}

with

states as (

    select * from {{ ref('int_customer_states__scored') }}

),

days as (

    select * from {{ ref('int_customer_days') }}

),

responses as (

    select * from {{ ref('stg_feedback__survey_responses') }}

),

nps_answers as (

    select
        customer_id,
        count(*) as nps_answers,
        max(responded_at) as last_answered_at,
        avg(score * 1.0) as mean_actual_score
    from responses
    where
        survey_type = 'nps'
        and customer_id is not null
        and score is not null
    group by customer_id

),

last_answers as (

    select
        responses.customer_id,
        max(responses.score) as last_actual_score
    from responses
    inner join nps_answers
        on
            responses.customer_id = nps_answers.customer_id
            and responses.responded_at = nps_answers.last_answered_at
    where responses.survey_type = 'nps'
    group by responses.customer_id

),

final as (

    select
        states.customer_id,
        states.state_date as as_of_date,
        days.lifecycle_stage,
        states.predicted_nps_score,
        states.p_promoter,
        states.p_passive,
        states.p_detractor,
        100 * (states.p_promoter - states.p_detractor) as nps_contribution,
        case
            when states.predicted_nps_score >= 9 then 'promoter'
            when states.predicted_nps_score >= 7 then 'passive'
            when states.predicted_nps_score is not null then 'detractor'
        end as predicted_nps_group,
        states.response_propensity,
        coalesce(nps_answers.nps_answers, 0) > 0 as has_responded,
        coalesce(nps_answers.nps_answers, 0) as nps_answers,
        nps_answers.last_answered_at,
        last_answers.last_actual_score,
        nps_answers.mean_actual_score,
        case
            when last_answers.last_actual_score >= 9 then 'promoter'
            when last_answers.last_actual_score >= 7 then 'passive'
            when last_answers.last_actual_score is not null then 'detractor'
        end as last_actual_nps_group,
        states.model_version
    from states
    inner join days
        on states.customer_day_id = days.customer_day_id
    left join nps_answers
        on states.customer_id = nps_answers.customer_id
    left join last_answers
        on states.customer_id = last_answers.customer_id
    where days.is_latest

)

select * from final
