{{ config(materialized='table') }}

{#-
    One row per customer and UTC day on which something happened to or by the
    customer: counts and sums of that day's interactions, web friction, and
    the day's text signals. A day on which the company only sent or delivered
    e-mails has a row (its counts feed the windows of int_customer_days) but
    is not eventful: it does not make a customer-day of its own there.
-#}
{%- set emotions = ['joy', 'sadness', 'anger', 'fear', 'surprise', 'disgust', 'neutral'] -%}

with

interactions as (

    select * from {{ ref('int_interactions') }}

),

web_sessions as (

    select * from {{ ref('int_web_sessions') }}

),

text_daily as (

    select * from {{ ref('int_customer_text_daily') }}

),

tickets as (

    select * from {{ ref('stg_support__tickets') }}

),

customer_interactions as (

    select
        customer_id,
        cast(occurred_at as date) as activity_date,
        interaction_type,
        channel,
        direction,
        category,
        outcome,
        value
    from interactions
    where customer_id is not null

),

interaction_daily as (

    select
        customer_id,
        activity_date,
        count(case when interaction_type not in ('email_sent', 'email_delivered') then 1 end)
            as n_interactions,
        count(case when direction = 'inbound' and channel not in ('email', 'web') then 1 end)
            as n_inbound_contacts,
        count(case when interaction_type = 'order_placed' then 1 end) as n_orders,
        sum(case when interaction_type = 'order_placed' then value else 0 end) as order_value,
        count(case when interaction_type = 'order_cancelled' then 1 end) as n_order_cancellations,
        count(case when interaction_type = 'order_returned' then 1 end) as n_returns,
        count(case when interaction_type = 'order_returned' and category = 'defective' then 1 end)
            as n_defect_returns,
        count(case when interaction_type = 'order_delivered' then 1 end) as n_deliveries,
        count(case when interaction_type = 'order_delivered' and value >= 24 then 1 end)
            as n_late_deliveries,
        sum(case when interaction_type = 'order_delivered' and value >= 24 then value / 24.0 else 0 end)
            as late_days,
        count(case when interaction_type = 'payment_failed' then 1 end) as n_payment_failures,
        count(case when interaction_type = 'refund_issued' then 1 end) as n_refunds,
        count(case when interaction_type = 'subscription_price_changed' and value > 0 then 1 end)
            as n_price_increases,
        count(case when interaction_type = 'subscription_cancelled' then 1 end)
            as n_subscription_cancellations,
        count(case when interaction_type = 'ticket_opened' then 1 end) as n_tickets_opened,
        count(case when interaction_type = 'ticket_resolved' then 1 end) as n_tickets_resolved,
        sum(case when interaction_type = 'ticket_resolved' then value else 0 end) as resolution_hours,
        count(case when interaction_type in ('chat', 'call_inbound') then 1 end) as n_live_contacts,
        sum(case when interaction_type in ('chat', 'call_inbound') then value else 0 end) as wait_seconds,
        count(case
            when interaction_type = 'email_sent' and category in ('promotional', 'newsletter', 'winback')
                then 1
        end) as n_marketing_emails,
        count(case when interaction_type = 'email_delivered' then 1 end) as n_emails_delivered,
        count(case when interaction_type = 'email_open' then 1 end) as n_email_opens,
        count(case when interaction_type = 'email_click' then 1 end) as n_email_clicks,
        count(case when interaction_type = 'email_unsubscribe' then 1 end) as n_unsubscribes,
        count(case when interaction_type = 'email_complaint' then 1 end) as n_spam_complaints,
        count(case when interaction_type = 'survey_invited' then 1 end) as n_survey_invitations,
        count(case when interaction_type = 'survey_response' then 1 end) as n_survey_responses,
        count(case when interaction_type = 'review' then 1 end) as n_reviews,
        count(case when interaction_type = 'social_mention' then 1 end) as n_social_mentions
    from customer_interactions
    group by
        customer_id,
        activity_date

),

web_daily as (

    select
        customer_id,
        cast(started_at as date) as activity_date,
        count(*) as n_sessions,
        count(case when search_count > 0 and checkout_count = 0 then 1 end) as n_searches_without_purchase,
        count(case when error_count > 0 then 1 end) as n_error_sessions,
        sum(help_center_count) as n_help_center_views
    from web_sessions
    where customer_id is not null
    group by
        customer_id,
        cast(started_at as date)

),

responded_tickets as (

    select
        customer_id,
        first_response_at,
        {{ dbt.datediff('created_at', 'first_response_at', 'minute') }} as first_response_minutes  -- noqa: LT05
    from tickets
    where
        customer_id is not null
        and first_response_at is not null

),

first_responses as (

    select
        customer_id,
        cast(first_response_at as date) as activity_date,
        count(*) as n_first_responses,
        sum(first_response_minutes) / 60.0 as first_response_hours
    from responded_tickets
    group by
        customer_id,
        cast(first_response_at as date)

),

spine as (

    select
        customer_id,
        activity_date
    from interaction_daily
    union
    select
        customer_id,
        activity_date
    from web_daily
    union
    select
        customer_id,
        activity_date
    from text_daily

),

final as (

    select
        {{ dbt.concat(['spine.customer_id', "':'", 'cast(spine.activity_date as ' ~ dbt.type_string() ~ ')']) }}
            as customer_day_id,
        spine.customer_id,
        spine.activity_date,
        (
            coalesce(interaction_daily.n_interactions, 0) > 0
            or web_daily.customer_id is not null
            or text_daily.customer_id is not null
        ) as is_eventful,
        coalesce(interaction_daily.n_interactions, 0) as n_interactions,
        coalesce(interaction_daily.n_inbound_contacts, 0) as n_inbound_contacts,
        coalesce(interaction_daily.n_orders, 0) as n_orders,
        coalesce(interaction_daily.order_value, 0) as order_value,
        coalesce(interaction_daily.n_order_cancellations, 0) as n_order_cancellations,
        coalesce(interaction_daily.n_returns, 0) as n_returns,
        coalesce(interaction_daily.n_defect_returns, 0) as n_defect_returns,
        coalesce(interaction_daily.n_deliveries, 0) as n_deliveries,
        coalesce(interaction_daily.n_late_deliveries, 0) as n_late_deliveries,
        coalesce(interaction_daily.late_days, 0) as late_days,
        coalesce(interaction_daily.n_payment_failures, 0) as n_payment_failures,
        coalesce(interaction_daily.n_refunds, 0) as n_refunds,
        coalesce(interaction_daily.n_price_increases, 0) as n_price_increases,
        coalesce(interaction_daily.n_subscription_cancellations, 0) as n_subscription_cancellations,
        coalesce(interaction_daily.n_tickets_opened, 0) as n_tickets_opened,
        coalesce(interaction_daily.n_tickets_resolved, 0) as n_tickets_resolved,
        coalesce(interaction_daily.resolution_hours, 0) as resolution_hours,
        coalesce(first_responses.n_first_responses, 0) as n_first_responses,
        coalesce(first_responses.first_response_hours, 0) as first_response_hours,
        coalesce(interaction_daily.n_live_contacts, 0) as n_live_contacts,
        coalesce(interaction_daily.wait_seconds, 0) as wait_seconds,
        coalesce(interaction_daily.n_marketing_emails, 0) as n_marketing_emails,
        coalesce(interaction_daily.n_emails_delivered, 0) as n_emails_delivered,
        coalesce(interaction_daily.n_email_opens, 0) as n_email_opens,
        coalesce(interaction_daily.n_email_clicks, 0) as n_email_clicks,
        coalesce(interaction_daily.n_unsubscribes, 0) as n_unsubscribes,
        coalesce(interaction_daily.n_spam_complaints, 0) as n_spam_complaints,
        coalesce(interaction_daily.n_survey_invitations, 0) as n_survey_invitations,
        coalesce(interaction_daily.n_survey_responses, 0) as n_survey_responses,
        coalesce(interaction_daily.n_reviews, 0) as n_reviews,
        coalesce(interaction_daily.n_social_mentions, 0) as n_social_mentions,
        coalesce(web_daily.n_sessions, 0) as n_sessions,
        coalesce(web_daily.n_searches_without_purchase, 0) as n_searches_without_purchase,
        coalesce(web_daily.n_error_sessions, 0) as n_error_sessions,
        coalesce(web_daily.n_help_center_views, 0) as n_help_center_views,
        coalesce(text_daily.n_texts, 0) as n_texts,
        coalesce(text_daily.mean_sentiment * text_daily.n_texts, 0) as sentiment_sum,
        text_daily.min_sentiment,
        coalesce(text_daily.n_negative, 0) as n_negative_texts,
        coalesce(text_daily.n_positive, 0) as n_positive_texts,
        {%- for emotion in emotions %}
        coalesce(text_daily.emotion_{{ emotion }}_mean * text_daily.n_texts, 0) as emotion_{{ emotion }}_sum,
        {%- endfor %}
        coalesce(text_daily.mean_intensity * text_daily.n_texts, 0) as intensity_sum,
        coalesce(text_daily.n_complaints, 0) as n_complaints,
        coalesce(text_daily.n_cancellation_intents, 0) as n_cancellation_intents,
        coalesce(text_daily.n_praise, 0) as n_praise,
        coalesce(text_daily.n_sarcastic, 0) as n_sarcastic
    from spine
    left join interaction_daily
        on
            spine.customer_id = interaction_daily.customer_id
            and spine.activity_date = interaction_daily.activity_date
    left join web_daily
        on
            spine.customer_id = web_daily.customer_id
            and spine.activity_date = web_daily.activity_date
    left join text_daily
        on
            spine.customer_id = text_daily.customer_id
            and spine.activity_date = text_daily.activity_date
    left join first_responses
        on
            spine.customer_id = first_responses.customer_id
            and spine.activity_date = first_responses.activity_date

)

select * from final
