{{
    config(
        materialized='incremental',
        unique_key='customer_day_id',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{% if is_incremental() %}delete from {{ this }} where state_date >= ("
            ~ "select " ~ dbt.dateadd('day', -var('state_recompute_days', 3), 'max(state_date)')
            ~ " from {{ this }}){% endif %}",
    )
}}

{#-
    Point-in-time features per customer-day: everything known about the
    customer by the end of `state_date`, over trailing 7/30/90/365-day windows.

    Rows (compact history): the customer-days of int_customer_day_spine
    (eventful days, the days before labels and snapshot dates, the latest
    day); this model adds the windowed features of each.

    Incremental by day: a run deletes and recomputes the last
    `state_recompute_days` days it holds (late-arriving data), reading 365 days
    of activity before them; older rows are kept. Windows never look further
    back than 365 days, so an incremental run and a full refresh agree.
-#}
{%- set emotions = ['joy', 'sadness', 'anger', 'fear', 'surprise', 'disgust'] -%}
{%- set sums = [
    'n_inbound_contacts', 'n_orders', 'order_value', 'n_order_cancellations', 'n_returns', 'n_defect_returns',
    'n_deliveries', 'n_late_deliveries', 'late_days', 'n_payment_failures', 'n_refunds', 'n_price_increases',
    'n_subscription_cancellations', 'n_tickets_opened', 'n_tickets_resolved', 'resolution_hours',
    'n_first_responses', 'first_response_hours', 'n_live_contacts', 'wait_seconds', 'n_marketing_emails',
    'n_emails_delivered', 'n_email_opens', 'n_email_clicks', 'n_unsubscribes', 'n_spam_complaints',
    'n_survey_invitations', 'n_survey_responses', 'n_reviews', 'n_social_mentions', 'n_sessions',
    'n_searches_without_purchase', 'n_error_sessions', 'n_help_center_views', 'n_texts', 'sentiment_sum',
    'n_negative_texts', 'n_positive_texts', 'intensity_sum', 'n_complaints', 'n_cancellation_intents',
    'n_praise', 'n_sarcastic',
    'emotion_joy_sum', 'emotion_sadness_sum', 'emotion_anger_sum', 'emotion_fear_sum',
    'emotion_surprise_sum', 'emotion_disgust_sum',
] -%}
{%- set tenure_days = 'cast(' ~ dbt.datediff('cast(customers.created_at as date)', 'windowed.state_date', 'day')
    ~ ' as ' ~ dbt.type_int() ~ ')' -%}
{#- (feature, summed column, window days) -#}
{%- set windows = [
    ('texts_7d', 'n_texts', 7), ('texts_30d', 'n_texts', 30), ('texts_90d', 'n_texts', 90),
    ('sentiment_sum_7d', 'sentiment_sum', 7), ('sentiment_sum_30d', 'sentiment_sum', 30),
    ('sentiment_sum_90d', 'sentiment_sum', 90),
    ('negative_texts_30d', 'n_negative_texts', 30), ('positive_texts_30d', 'n_positive_texts', 30),
    ('intensity_sum_30d', 'intensity_sum', 30),
    ('complaints_30d', 'n_complaints', 30), ('cancellation_intents_90d', 'n_cancellation_intents', 90),
    ('praise_90d', 'n_praise', 90), ('sarcastic_texts_30d', 'n_sarcastic', 30),
    ('emotion_joy_sum_30d', 'emotion_joy_sum', 30), ('emotion_sadness_sum_30d', 'emotion_sadness_sum', 30),
    ('emotion_anger_sum_30d', 'emotion_anger_sum', 30), ('emotion_fear_sum_30d', 'emotion_fear_sum', 30),
    ('emotion_surprise_sum_30d', 'emotion_surprise_sum', 30),
    ('emotion_disgust_sum_30d', 'emotion_disgust_sum', 30),
    ('inbound_contacts_30d', 'n_inbound_contacts', 30), ('inbound_contacts_90d', 'n_inbound_contacts', 90),
    ('tickets_opened_90d', 'n_tickets_opened', 90), ('tickets_resolved_90d', 'n_tickets_resolved', 90),
    ('resolution_hours_90d', 'resolution_hours', 90), ('first_responses_90d', 'n_first_responses', 90),
    ('first_response_hours_90d', 'first_response_hours', 90),
    ('live_contacts_30d', 'n_live_contacts', 30), ('wait_seconds_30d', 'wait_seconds', 30),
    ('orders_90d', 'n_orders', 90), ('orders_365d', 'n_orders', 365), ('revenue_365d', 'order_value', 365),
    ('order_cancellations_90d', 'n_order_cancellations', 90),
    ('returns_30d', 'n_returns', 30), ('returns_90d', 'n_returns', 90),
    ('defect_returns_90d', 'n_defect_returns', 90),
    ('deliveries_30d', 'n_deliveries', 30), ('late_deliveries_30d', 'n_late_deliveries', 30),
    ('late_deliveries_90d', 'n_late_deliveries', 90), ('late_days_30d', 'late_days', 30),
    ('payment_failures_30d', 'n_payment_failures', 30), ('refunds_30d', 'n_refunds', 30),
    ('price_increases_90d', 'n_price_increases', 90),
    ('subscription_cancellations_90d', 'n_subscription_cancellations', 90),
    ('marketing_emails_7d', 'n_marketing_emails', 7), ('marketing_emails_30d', 'n_marketing_emails', 30),
    ('emails_delivered_30d', 'n_emails_delivered', 30), ('emails_delivered_90d', 'n_emails_delivered', 90),
    ('email_opens_30d', 'n_email_opens', 30), ('email_opens_90d', 'n_email_opens', 90),
    ('email_clicks_30d', 'n_email_clicks', 30),
    ('unsubscribes_90d', 'n_unsubscribes', 90), ('spam_complaints_90d', 'n_spam_complaints', 90),
    ('survey_invitations_90d', 'n_survey_invitations', 90), ('survey_responses_90d', 'n_survey_responses', 90),
    ('reviews_90d', 'n_reviews', 90), ('social_mentions_90d', 'n_social_mentions', 90),
    ('sessions_30d', 'n_sessions', 30), ('searches_without_purchase_30d', 'n_searches_without_purchase', 30),
    ('error_sessions_7d', 'n_error_sessions', 7), ('error_sessions_30d', 'n_error_sessions', 30),
    ('help_center_views_30d', 'n_help_center_views', 30),
] -%}
{#- (feature, condition on the activity row): days since the latest such day within 365 days -#}
{%- set recency = [
    ('days_since_order', 'n_orders > 0'),
    ('days_since_late_delivery', 'n_late_deliveries > 0'),
    ('days_since_defect_return', 'n_defect_returns > 0'),
    ('days_since_ticket_opened', 'n_tickets_opened > 0'),
    ('days_since_ticket_resolved', 'n_tickets_resolved > 0'),
    ('days_since_price_increase', 'n_price_increases > 0'),
    ('days_since_email_open', 'n_email_opens > 0'),
    ('days_since_negative_text', 'n_negative_texts > 0'),
    ('days_since_positive_text', 'n_positive_texts > 0'),
    ('days_since_engagement',
        '(n_orders + n_inbound_contacts + n_sessions + n_email_opens + n_email_clicks'
        ~ ' + n_survey_responses + n_reviews) > 0'),
] -%}

with

activity as (

    select * from {{ ref('int_customer_daily_activity') }}

),

spine as (

    select * from {{ ref('int_customer_day_spine') }}

),

customers as (

    select * from {{ ref('stg_crm__customers') }}

),

tickets as (

    select * from {{ ref('stg_support__tickets') }}

),

shipments as (

    select * from {{ ref('stg_commerce__shipments') }}

),

orders as (

    select * from {{ ref('stg_commerce__orders') }}

),

as_of as (

    {{ as_of_dates() }}

),

-- The last day with data: the build's one as-of date (int_as_of_date; the var as_of_date when set).
bounds as (

    select
        (select as_of.latest_data_date from as_of) as latest_date,
        {% if is_incremental() -%}
        -- the pre-hook has deleted the days to recompute: start after the last day kept
        cast(
            (select {{ dbt.dateadd('day', 1, 'max(state_date)') }} from {{ this }}) as date
        ) as start_date
        {%- else -%}
        cast('1900-01-01' as date) as start_date
        {%- endif %}

),

-- The spine's days this run builds.
spine_in_range as (

    select
        spine.customer_id,
        spine.state_date
    from spine
    cross join bounds
    where spine.state_date >= bounds.start_date

),

activity_window as (

    select activity.*
    from activity
    cross join bounds
    where
        activity.activity_date <= bounds.latest_date
        and activity.activity_date >= {{ dbt.dateadd('day', -365, 'bounds.start_date') }}

),

-- Activity rows plus the spine's days without activity (all counts zero), on one day axis.
grid as (

    select
        activity_window.customer_id,
        activity_window.activity_date as state_date,
        {{ day_index('activity_window.activity_date') }} as day_index,
        {%- for column in sums %}
        activity_window.{{ column }},
        {%- endfor %}
        activity_window.is_eventful
    from activity_window
    union all
    select
        spine_in_range.customer_id,
        spine_in_range.state_date,
        {{ day_index('spine_in_range.state_date') }} as day_index,
        {%- for column in sums %}
        0 as {{ column }},
        {%- endfor %}
        false as is_eventful
    from spine_in_range
    left join activity_window
        on
            spine_in_range.customer_id = activity_window.customer_id
            and spine_in_range.state_date = activity_window.activity_date
    where activity_window.customer_id is null

),

windowed as (

    select
        customer_id,
        state_date,
        day_index,
        is_eventful,
        {%- for feature, column, days in windows %}
        cast(
            sum({{ column }}) {{ trailing_window(days) }} as
            {{ dbt.type_bigint() if column.startswith('n_') else type_double() }}
        ) as {{ feature }},
        {%- endfor %}
        {%- for feature, condition in recency %}
        cast(
            day_index - max(case when {{ condition }} then day_index end) {{ trailing_window(365) }} as
            {{ dbt.type_int() }}
        ) as {{ feature }},
        {%- endfor %}
        n_texts as texts_today,
        sentiment_sum as sentiment_sum_today
    from grid

),

open_tickets as (

    select
        spine_in_range.customer_id,
        spine_in_range.state_date,
        cast(count(*) as {{ dbt.type_int() }}) as open_tickets,
        max({{ dbt.datediff('cast(tickets.created_at as date)', 'spine_in_range.state_date', 'day') }})
            as oldest_open_ticket_days
    from spine_in_range
    inner join tickets
        on
            spine_in_range.customer_id = tickets.customer_id
            and cast(tickets.created_at as date) <= spine_in_range.state_date
            and (tickets.resolved_at is null or cast(tickets.resolved_at as date) > spine_in_range.state_date)
    group by
        spine_in_range.customer_id,
        spine_in_range.state_date

),

overdue_parcels as (

    select
        spine_in_range.customer_id,
        spine_in_range.state_date,
        cast(count(*) as {{ dbt.type_int() }}) as overdue_parcels,
        max({{ dbt.datediff('cast(shipments.promised_delivery_at as date)', 'spine_in_range.state_date', 'day') }})
            as max_days_overdue
    from spine_in_range
    inner join orders
        on spine_in_range.customer_id = orders.customer_id
    inner join shipments
        on
            orders.order_id = shipments.order_id
            and cast(shipments.promised_delivery_at as date) < spine_in_range.state_date
            and (
                shipments.delivered_at is null
                or cast(shipments.delivered_at as date) > spine_in_range.state_date
            )
            and cast(shipments.shipped_at as date) <= spine_in_range.state_date
    group by
        spine_in_range.customer_id,
        spine_in_range.state_date

),

features as (

    select
        windowed.*,
        {{ tenure_days }} as tenure_days,
        coalesce(open_tickets.open_tickets, 0) as open_tickets,
        open_tickets.oldest_open_ticket_days,
        coalesce(overdue_parcels.overdue_parcels, 0) as overdue_parcels,
        overdue_parcels.max_days_overdue,
        windowed.state_date = bounds.latest_date as is_latest
    from windowed
    inner join spine_in_range
        on
            windowed.customer_id = spine_in_range.customer_id
            and windowed.state_date = spine_in_range.state_date
    inner join customers
        on windowed.customer_id = customers.customer_id
    cross join bounds
    left join open_tickets
        on
            windowed.customer_id = open_tickets.customer_id
            and windowed.state_date = open_tickets.state_date
    left join overdue_parcels
        on
            windowed.customer_id = overdue_parcels.customer_id
            and windowed.state_date = overdue_parcels.state_date

),

final as (

    select
        {{ dbt.concat(['customer_id', "':'", 'cast(state_date as ' ~ dbt.type_string() ~ ')']) }}
            as customer_day_id,
        customer_id,
        state_date,
        is_eventful,
        is_latest,
        tenure_days,
        case
            when tenure_days < 30 then 'new'
            when subscription_cancellations_90d > 0 and coalesce(days_since_order, 999) > 30 then 'cancelled'
            when days_since_engagement is null or days_since_engagement >= 180 then 'lapsed'
            when days_since_engagement >= 90 then 'cooling'
            else 'active'
        end as lifecycle_stage,
        texts_today,
        {%- for feature, column, days in windows if not feature.startswith('sentiment_sum')
            and not feature.startswith('emotion_') and not feature.startswith('intensity_sum') %}
        {{ feature }},
        {%- endfor %}
        sentiment_sum_7d / nullif(texts_7d, 0) as sentiment_mean_7d,
        sentiment_sum_30d / nullif(texts_30d, 0) as sentiment_mean_30d,
        sentiment_sum_90d / nullif(texts_90d, 0) as sentiment_mean_90d,
        sentiment_sum_today / nullif(texts_today, 0) as sentiment_mean_today,
        intensity_sum_30d / nullif(texts_30d, 0) as intensity_mean_30d,
        {%- for emotion in emotions %}
        emotion_{{ emotion }}_sum_30d / nullif(texts_30d, 0) as emotion_{{ emotion }}_share_30d,
        {%- endfor %}
        greatest(marketing_emails_7d - 3, 0) as over_contact_7d,
        email_opens_30d * 1.0 / nullif(emails_delivered_30d, 0) as email_open_rate_30d,
        email_opens_90d * 1.0 / nullif(emails_delivered_90d, 0) as email_open_rate_90d,
        email_opens_90d * 1.0 / nullif(emails_delivered_90d, 0)
        - email_opens_30d * 1.0 / nullif(emails_delivered_30d, 0) as email_engagement_decay,
        greatest(survey_invitations_90d - survey_responses_90d, 0) as ignored_survey_invitations_90d,
        resolution_hours_90d / nullif(tickets_resolved_90d, 0) as resolution_hours_mean_90d,
        first_response_hours_90d / nullif(first_responses_90d, 0) as first_response_hours_mean_90d,
        wait_seconds_30d / nullif(live_contacts_30d, 0) as wait_seconds_mean_30d,
        {%- for feature, condition in recency %}
        {{ feature }},
        {%- endfor %}
        open_tickets,
        oldest_open_ticket_days,
        overdue_parcels,
        max_days_overdue
    from features

)

select * from final
