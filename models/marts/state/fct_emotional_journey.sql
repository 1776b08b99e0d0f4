{{ config(meta={"status_from": ["int_customer_states__scored.state"]}) }}

{#-
    How customers feel along their journey: estimated states of eventful
    customer-days grouped by lifecycle stage, the journey stage of the day
    (what happened that day, most specific first: support, delivery, billing,
    purchase, feedback, browsing, e-mail) and its main channel, per month.
-#}
{%- set emotions = ['joy', 'sadness', 'anger', 'fear', 'surprise', 'disgust', 'neutral'] -%}

with

states as (

    select * from {{ ref('int_customer_emotional_states') }}

),

activity as (

    select * from {{ ref('int_customer_daily_activity') }}

),

staged as (

    select
        states.*,
        cast({{ dbt.date_trunc('month', 'states.state_date') }} as date) as activity_month,
        case
            when activity.n_tickets_opened + activity.n_live_contacts + activity.n_tickets_resolved > 0 then 'support'
            when activity.n_deliveries + activity.n_returns > 0 then 'delivery'
            when
                activity.n_payment_failures + activity.n_refunds + activity.n_price_increases
                + activity.n_subscription_cancellations > 0 then 'billing'
            when activity.n_orders + activity.n_order_cancellations > 0 then 'purchase'
            when activity.n_survey_responses + activity.n_reviews + activity.n_social_mentions > 0 then 'feedback'
            when activity.n_sessions > 0 then 'browsing'
            else 'email'
        end as journey_stage,
        case
            when activity.n_live_contacts > 0 then 'chat_or_phone'
            when activity.n_tickets_opened + activity.n_tickets_resolved > 0 then 'ticket'
            when activity.n_orders + activity.n_deliveries + activity.n_returns > 0 then 'order'
            when activity.n_survey_responses + activity.n_reviews > 0 then 'survey_or_review'
            when activity.n_social_mentions > 0 then 'social'
            when activity.n_sessions > 0 then 'web'
            else 'email'
        end as channel
    from states
    inner join activity
        on
            states.customer_id = activity.customer_id
            and states.state_date = activity.activity_date
    where states.is_eventful

),

final as (

    select
        {{ dbt.concat([
            'cast(activity_month as ' ~ dbt.type_string() ~ ')', "':'",
            'lifecycle_stage', "':'", 'journey_stage', "':'", 'channel'
        ]) }} as journey_cell_id,
        activity_month,
        lifecycle_stage,
        journey_stage,
        channel,
        count(*) as customer_days,
        count(distinct customer_id) as customers,
        avg(valence) as mean_valence,
        avg(arousal) as mean_arousal,
        avg(empathy_score) as mean_empathy_score,
        avg(case when empathy_score < 45 then 1.0 else 0.0 end) as unhappy_share,
        {%- for emotion in emotions %}
        avg(p_{{ emotion }}) as {{ emotion }}_share{% if not loop.last %},{% endif %}
        {%- endfor %}
    from staged
    group by
        activity_month,
        lifecycle_stage,
        journey_stage,
        channel

)

select * from final
