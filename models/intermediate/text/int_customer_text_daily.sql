{{ config(materialized='table', meta={"status_from": ["int_text_signals__scored.text_scoring"]}) }}

{#- The seven emotions of the text model (python/empathy/text/schema.py EMOTIONS). -#}
{%- set emotions = ['joy', 'sadness', 'anger', 'fear', 'surprise', 'disgust', 'neutral'] -%}

with

text_signals as (

    select * from {{ ref('int_text_signals') }}

),

-- Texts of known customers, dated by their UTC day.
customer_texts as (

    select
        customer_id,
        cast(occurred_at as date) as activity_date,
        occurred_at,
        sentiment_score,
        sentiment_label,
        sentiment_intensity,
        {%- for emotion in emotions %}
        emotion_{{ emotion }},
        {%- endfor %}
        intent,
        sarcasm_score,
        sentiment_model,
        interaction_type
    from text_signals
    where customer_id is not null

),

daily as (

    select
        customer_id,
        activity_date,
        count(*) as n_texts,
        min(occurred_at) as first_text_at,
        max(occurred_at) as last_text_at,
        avg(sentiment_score) as mean_sentiment,
        min(sentiment_score) as min_sentiment,
        max(sentiment_score) as max_sentiment,
        avg(sentiment_intensity) as mean_intensity,
        count(case when sentiment_label = 'negative' then 1 end) as n_negative,
        count(case when sentiment_label = 'neutral' then 1 end) as n_neutral,
        count(case when sentiment_label = 'positive' then 1 end) as n_positive,
        {%- for emotion in emotions %}
        avg(emotion_{{ emotion }}) as emotion_{{ emotion }}_mean,
        {%- endfor %}
        count(case when intent = 'complaint' then 1 end) as n_complaints,
        count(case when intent = 'cancellation_intent' then 1 end) as n_cancellation_intents,
        count(case when intent = 'support_request' then 1 end) as n_support_requests,
        count(case when intent = 'praise' then 1 end) as n_praise,
        count(case when sarcasm_score >= 0.5 then 1 end) as n_sarcastic,
        max(sarcasm_score) as max_sarcasm,
        count(case when sentiment_model != 'generic' then 1 end) as n_domain_sentiment,
        count(case when interaction_type in ('survey_response', 'review') then 1 end) as n_answer_comments
    from customer_texts
    group by
        customer_id,
        activity_date

),

final as (

    select
        {{ dbt.concat(['customer_id', "':'", 'cast(activity_date as ' ~ dbt.type_string() ~ ')']) }}
            as customer_day_id,
        customer_id,
        activity_date,
        n_texts,
        first_text_at,
        last_text_at,
        mean_sentiment,
        min_sentiment,
        max_sentiment,
        mean_intensity,
        n_negative,
        n_neutral,
        n_positive,
        n_negative * 1.0 / n_texts as negative_share,
        n_positive * 1.0 / n_texts as positive_share,
        {%- for emotion in emotions %}
        emotion_{{ emotion }}_mean,
        {%- endfor %}
        n_complaints,
        n_cancellation_intents,
        n_support_requests,
        n_praise,
        n_sarcastic,
        max_sarcasm,
        n_domain_sentiment,
        n_answer_comments
    from daily

)

select * from final
