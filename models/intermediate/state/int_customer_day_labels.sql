{#-
    What customers said about how they feel, one row per customer, day and
    label source, on a common valence scale from -1 to 1:
    * survey_nps: (score - 5) / 5 for NPS answers (0-10);
    * survey_csat: (score - 3) / 2 for CSAT answers (1-5);
    * review: (rating - 3) / 2 for star ratings (1-5);
    * text: the mean sentiment score of the customer's texts that day, with
      the day's text arousal (emotion probabilities weighted by each emotion's
      arousal on the circumplex, times intensity) and dominant emotion.
    Several answers of one source on one day are averaged. n_answer_comments
    counts the texts of a text label that are the comment of a survey answer
    or review: they share that answer's reading, not only the day's state.
-#}
{%- set arousal = {
    'anger': 0.9, 'fear': 0.8, 'surprise': 0.8, 'disgust': 0.6, 'joy': 0.6, 'sadness': 0.3, 'neutral': 0.1,
} -%}

with

survey_responses as (

    select * from {{ ref('stg_feedback__survey_responses') }}

),

reviews as (

    select * from {{ ref('stg_feedback__reviews') }}

),

text_daily as (

    select * from {{ ref('int_customer_text_daily') }}

),

surveys as (

    select
        customer_id,
        cast(responded_at as date) as label_date,
        {{ dbt.concat(["'survey_'", 'survey_type']) }} as label_source,
        avg(
            case
                when survey_type = 'nps' then (score - 5) / 5.0
                else (score - 3) / 2.0
            end
        ) as valence,
        avg(score * 1.0) as raw_score,
        count(*) as n_answers,
        0 as n_answer_comments,
        cast(null as {{ type_double() }}) as arousal,
        cast(null as {{ dbt.type_string() }}) as dominant_emotion
    from survey_responses
    where
        customer_id is not null
        and score is not null
        and survey_type in ('nps', 'csat')
    group by
        customer_id,
        cast(responded_at as date),
        survey_type

),

review_days as (

    select
        customer_id,
        cast(created_at as date) as label_date,
        'review' as label_source,
        avg((rating - 3) / 2.0) as valence,
        avg(rating * 1.0) as raw_score,
        count(*) as n_answers,
        0 as n_answer_comments,
        cast(null as {{ type_double() }}) as arousal,
        cast(null as {{ dbt.type_string() }}) as dominant_emotion
    from reviews
    where
        customer_id is not null
        and rating is not null
    group by
        customer_id,
        cast(created_at as date)

),

texts as (

    select
        customer_id,
        activity_date as label_date,
        'text' as label_source,
        mean_sentiment as valence,
        mean_sentiment as raw_score,
        n_texts as n_answers,
        n_answer_comments,
        mean_intensity * (
            {%- for emotion, weight in arousal.items() %}
            {{ weight }} * emotion_{{ emotion }}_mean{% if not loop.last %} +{% endif %}
            {%- endfor %}
        ) / (
            {%- for emotion in arousal %}
            emotion_{{ emotion }}_mean{% if not loop.last %} +{% endif %}
            {%- endfor %}
        ) as arousal,
        case
            {%- for emotion in arousal %}
            when emotion_{{ emotion }}_mean = greatest(
                {%- for other in arousal %}emotion_{{ other }}_mean{% if not loop.last %},
                {% endif %}{% endfor -%}
            ) then '{{ emotion }}'
            {%- endfor %}
        end as dominant_emotion
    from text_daily

),

unioned as (

    select * from surveys
    union all
    select * from review_days
    union all
    select * from texts

),

final as (

    select
        {{ dbt.concat([
            'customer_id', "':'", 'cast(label_date as ' ~ dbt.type_string() ~ ')', "':'", 'label_source'
        ]) }} as label_id,
        customer_id,
        label_date,
        cast({{ dbt.dateadd('day', -1, 'label_date') }} as date) as feature_date,
        label_source,
        greatest(least(valence, 1.0), -1.0) as valence,
        raw_score,
        n_answers,
        n_answer_comments,
        arousal,
        dominant_emotion
    from unioned

)

select * from final
