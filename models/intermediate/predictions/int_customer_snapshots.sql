{{ config(materialized='table') }}

{#-
    Point-in-time feature sets: one row per customer and snapshot date t,
    built only from what was known before t: every eligible customer on each
    grid date, every customer on the scoring date. Snapshot dates are the grid days
    of is_snapshot_date() plus the scoring date (the day after the latest day
    with data). Everything comes from int_customer_days on day t − 1, the
    profile version current before t (stg_crm__customer_versions), the
    subscriptions active on t as their version current then said
    (stg_commerce__subscription_versions) and the consents in force on t.

    The training sets of the churn and next-action models are these rows
    joined to int_customer_snapshot_outcomes; the scores are these rows on the
    scoring date.
-#}
{%- set history_days = dbt.datediff('data_bounds.first_data_date', 'snapshot_days.snapshot_date', 'day') -%}
{%- set day_keys = ['customer_day_id', 'customer_id', 'state_date', 'is_eventful', 'is_latest', 'lifecycle_stage'] -%}
{%- set customer_known = byo_known_columns('customer') -%}
{%- set subscription_known = byo_known_columns('subscription') -%}
{%- set byo_customer = byo_feature_columns(ref('stg_crm__customer_versions'), customer_known, 'byo__', 'customer') -%}
{%- set byo_subscription = byo_feature_columns(
    ref('stg_commerce__subscription_versions'), subscription_known, 'byo_subscription__', 'subscription'
) -%}
{%- set excluded = byo_excluded_columns(ref('stg_crm__customer_versions'), customer_known, 'customer')
    + byo_excluded_columns(ref('stg_commerce__subscription_versions'), subscription_known, 'subscription') -%}
{%- if execute and excluded -%}
    {%- do log('int_customer_snapshots: extra columns kept out of the features (audit.feature_exclusions): '
        ~ (excluded | map(attribute='name') | join(', ')), info=true) -%}
{%- endif %}

-- depends_on: {{ ref('int_feature_exclusions') }}

with

customer_days as (

    select * from {{ ref('int_customer_days') }}

),

activity as (

    select * from {{ ref('int_customer_daily_activity') }}

),

customer_versions as (

    select * from {{ ref('stg_crm__customer_versions') }}

),

subscriptions as (

    select * from {{ ref('stg_commerce__subscription_versions') }}

),

consents as (

    select * from {{ ref('stg_crm__consents') }}

),

currency_rates as (

    select * from {{ ref('currency_rates') }}

),

-- Where the data starts: the first day with at least a tenth of the median day's activity (a few
-- subscriptions started years before the exported history must not count as history).
daily_activity as (

    select
        activity_date,
        count(*) as customers_active
    from activity
    group by activity_date

),

typical_day as (

    select {{ percentile_cont('customers_active', 0.5) }} as median_customers_active
    from daily_activity

),

data_bounds as (

    select min(daily_activity.activity_date) as first_data_date
    from daily_activity
    cross join typical_day
    where daily_activity.customers_active >= 0.1 * typical_day.median_customers_active

),

snapshot_days as (

    select
        customer_days.*,
        cast({{ dbt.dateadd('day', 1, 'customer_days.state_date') }} as date) as snapshot_date
    from customer_days
    where
        customer_days.is_latest
        or {{ is_snapshot_date(dbt.dateadd('day', 1, 'customer_days.state_date')) }}

),

profile_ranked as (

    select
        snapshot_days.snapshot_date,
        customer_versions.*,
        row_number() over (
            partition by snapshot_days.customer_id, snapshot_days.snapshot_date
            order by customer_versions.valid_from desc
        ) as profile_rank
    from snapshot_days
    inner join customer_versions
        on
            snapshot_days.customer_id = customer_versions.customer_id
            and customer_versions.valid_from < cast(snapshot_days.snapshot_date as {{ dbt.type_timestamp() }})

),

profile as (

    select *
    from profile_ranked
    where profile_rank = 1

),

subscriptions_active as (

    select
        snapshot_days.snapshot_date,
        subscriptions.*,
        -- the price on t in US dollars (currency_rates): a change after t is not known yet
        currency_rates.usd_per_unit * case
            when subscriptions.price_changed_at >= cast(snapshot_days.snapshot_date as {{ dbt.type_timestamp() }})
                then coalesce(subscriptions.previous_monthly_amount, subscriptions.monthly_amount)
            else subscriptions.monthly_amount
        end as amount_on_snapshot,
        case
            when subscriptions.price_changed_at < cast(snapshot_days.snapshot_date as {{ dbt.type_timestamp() }})
                then subscriptions.price_changed_at
        end as known_price_changed_at,
        row_number() over (
            partition by snapshot_days.customer_id, snapshot_days.snapshot_date
            order by subscriptions.monthly_amount desc, subscriptions.subscription_id asc
        ) as subscription_rank
    from snapshot_days
    inner join subscriptions
        on
            snapshot_days.customer_id = subscriptions.customer_id
            -- the version current on t: what the billing system said then
            and subscriptions.valid_from < cast(snapshot_days.snapshot_date as {{ dbt.type_timestamp() }})
            and (
                subscriptions.valid_to is null
                or subscriptions.valid_to >= cast(snapshot_days.snapshot_date as {{ dbt.type_timestamp() }})
            )
            and cast(subscriptions.started_at as date) < snapshot_days.snapshot_date
            and (
                subscriptions.ended_at is null
                or cast(subscriptions.ended_at as date) >= snapshot_days.snapshot_date
            )
    left join currency_rates
        on subscriptions.currency = currency_rates.currency

),

subscription_summary as (

    select
        customer_id,
        snapshot_date,
        cast(count(*) as {{ dbt.type_int() }}) as active_subscriptions,
        cast(sum(amount_on_snapshot) as {{ type_double() }}) as subscription_monthly_amount_usd,
        max({{ dbt.datediff('cast(started_at as date)', 'snapshot_date', 'day') }}) as subscription_tenure_days,
        min({{ dbt.datediff('cast(known_price_changed_at as date)', 'snapshot_date', 'day') }})
            as days_since_price_change,
        cast(max(
            case
                when known_price_changed_at is not null and previous_monthly_amount > 0
                    then monthly_amount / previous_monthly_amount - 1
            end
        ) as {{ type_double() }}) as last_price_change_share
    from subscriptions_active
    group by
        customer_id,
        snapshot_date

),

primary_subscription as (

    select *
    from subscriptions_active
    where subscription_rank = 1

),

consents_in_force as (

    select
        snapshot_days.customer_id,
        snapshot_days.snapshot_date,
        cast(max(
            case when consents.consent_channel = 'email' and consents.consent_purpose = 'marketing' then 1 else 0 end
        ) as {{ dbt.type_int() }}) as has_email_marketing_consent,
        cast(max(
            case when consents.consent_channel = 'sms' and consents.consent_purpose = 'marketing' then 1 else 0 end
        ) as {{ dbt.type_int() }}) as has_sms_marketing_consent,
        cast(max(
            case when consents.consent_purpose = 'profiling' then 1 else 0 end
        ) as {{ dbt.type_int() }}) as has_profiling_consent
    from snapshot_days
    inner join consents
        on
            snapshot_days.customer_id = consents.customer_id
            and cast(consents.granted_at as date) < snapshot_days.snapshot_date
            and (consents.revoked_at is null or cast(consents.revoked_at as date) >= snapshot_days.snapshot_date)
    group by
        snapshot_days.customer_id,
        snapshot_days.snapshot_date

),

assembled as (

    select
        {{ dbt.concat([
            'snapshot_days.customer_id', "':'", 'cast(snapshot_days.snapshot_date as ' ~ dbt.type_string() ~ ')'
        ]) }} as customer_snapshot_id,
        snapshot_days.customer_id,
        snapshot_days.snapshot_date,
        snapshot_days.state_date as feature_date,
        snapshot_days.is_latest as is_scoring_snapshot,
        {{ is_snapshot_date('snapshot_days.snapshot_date') }} as is_grid_snapshot,
        cast({{ history_days }} as {{ dbt.type_int() }}) as history_days,
        coalesce(subscription_summary.active_subscriptions, 0) > 0
        or snapshot_days.days_since_order is not null as is_eligible,
        case
            when coalesce(subscription_summary.active_subscriptions, 0) > 0 then 'subscription'
            else 'non_contractual'
        end as contract_type,
        profile.segment,
        profile.acquisition_channel,
        profile.company_size,
        profile.industry,
        cast(case when profile.has_email then 1 else 0 end as {{ dbt.type_int() }}) as has_email,
        {{ byo_select_items(byo_customer, 'profile') }}
        coalesce(subscription_summary.active_subscriptions, 0) as active_subscriptions,
        subscription_summary.subscription_monthly_amount_usd,
        subscription_summary.subscription_tenure_days,
        subscription_summary.days_since_price_change,
        subscription_summary.last_price_change_share,
        primary_subscription.plan as subscription_plan,
        -- a paying subscriber is active however long since they last wrote or bought (DECISIONLOG.md)
        case
            when coalesce(subscription_summary.active_subscriptions, 0) > 0 and snapshot_days.lifecycle_stage != 'new'
                then 'active'
            else snapshot_days.lifecycle_stage
        end as lifecycle_stage,
        {{ byo_select_items(byo_subscription, 'primary_subscription') }}
        {{ star_except(ref('int_customer_days'), except=day_keys, relation_alias='snapshot_days') }}
        coalesce(consents_in_force.has_email_marketing_consent, 0) as has_email_marketing_consent,
        coalesce(consents_in_force.has_sms_marketing_consent, 0) as has_sms_marketing_consent,
        coalesce(consents_in_force.has_profiling_consent, 0) as has_profiling_consent
    from snapshot_days
    cross join data_bounds
    left join profile
        on
            snapshot_days.customer_id = profile.customer_id
            and snapshot_days.snapshot_date = profile.snapshot_date
    left join subscription_summary
        on
            snapshot_days.customer_id = subscription_summary.customer_id
            and snapshot_days.snapshot_date = subscription_summary.snapshot_date
    left join primary_subscription
        on
            snapshot_days.customer_id = primary_subscription.customer_id
            and snapshot_days.snapshot_date = primary_subscription.snapshot_date
    left join consents_in_force
        on
            snapshot_days.customer_id = consents_in_force.customer_id
            and snapshot_days.snapshot_date = consents_in_force.snapshot_date

),

-- Grid snapshots of customers who can churn; every customer on the scoring date (value, actions).
final as (

    select *
    from assembled
    where is_scoring_snapshot or is_eligible

)

select * from final
