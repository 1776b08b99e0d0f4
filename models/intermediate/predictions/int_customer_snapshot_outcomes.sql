{{ config(materialized='table') }}

{#-
    What happened after each eligible snapshot (the labels of the churn and
    next-action models; never a feature):

    * churn within the horizon H of int_churn_horizon: for a subscriber, no
      subscription active at the end of [t, t + H); for a non-contractual
      customer, no purchase in [t, t + H) (DECISIONLOG.md);
    * the next action within var('next_action_days') W (at most H): the
      first that applies of churn (a subscriber with no subscription active at
      the end of [t, t + W); a non-contractual customer with no engagement at
      all in [t, t + H)), complain, contact support, purchase, else none.

    Labels are complete once t + H − 1 is on or before the latest day with data,
    and t is on or after labels_from_date of int_churn_horizon (an export that
    shows churn only at its end says nothing about who left before).
-#}

{%- set next_action_end = dbt.dateadd(
    'day', 'least(horizon.next_action_days, horizon.horizon_days)', 'snapshots.snapshot_date'
) %}

with

snapshots as (

    select * from {{ ref('int_customer_snapshots') }}

),

horizon as (

    select * from {{ ref('int_churn_horizon') }}

),

activity as (

    select * from {{ ref('int_customer_daily_activity') }}

),

subscriptions as (

    select * from {{ ref('stg_commerce__subscriptions') }}

),

eligible as (

    select
        snapshots.customer_snapshot_id,
        snapshots.customer_id,
        snapshots.snapshot_date,
        snapshots.contract_type,
        horizon.horizon_days,
        horizon.labels_from_date,
        least(horizon.next_action_days, horizon.horizon_days) as next_action_days,
        cast({{ dbt.dateadd('day', 'horizon.horizon_days', 'snapshots.snapshot_date') }} as date) as horizon_end,
        cast({{ next_action_end }} as date) as next_action_end
    from snapshots
    cross join horizon
    where snapshots.is_eligible

),

bounds as (

    select max(feature_date) as latest_date
    from snapshots

),

future_activity as (

    select
        eligible.customer_snapshot_id,
        min(case when activity.n_orders > 0 then activity.activity_date end) as first_order_date,
        min(
            case when activity.n_tickets_opened + activity.n_live_contacts > 0 then activity.activity_date end
        ) as first_contact_date,
        min(case when activity.n_complaints > 0 then activity.activity_date end) as first_complaint_date,
        min(
            case
                when
                    activity.n_orders + activity.n_inbound_contacts + activity.n_sessions + activity.n_email_opens
                    + activity.n_email_clicks + activity.n_survey_responses + activity.n_reviews > 0
                    then activity.activity_date
            end
        ) as first_engagement_date
    from eligible
    inner join activity
        on
            eligible.customer_id = activity.customer_id
            and eligible.snapshot_date <= activity.activity_date
            and eligible.horizon_end > activity.activity_date
    group by eligible.customer_snapshot_id

),

subscription_future as (

    select
        eligible.customer_snapshot_id,
        cast(sum(
            case
                when
                    cast(subscriptions.started_at as date) < eligible.horizon_end
                    and (subscriptions.ended_at is null or cast(subscriptions.ended_at as date) >= eligible.horizon_end)
                    then 1
                else 0
            end
        ) as {{ dbt.type_int() }}) as active_at_horizon_end,
        cast(sum(
            case
                when
                    cast(subscriptions.started_at as date) < eligible.next_action_end
                    and (
                        subscriptions.ended_at is null
                        or cast(subscriptions.ended_at as date) >= eligible.next_action_end
                    )
                    then 1
                else 0
            end
        ) as {{ dbt.type_int() }}) as active_at_next_action_end,
        max(
            case
                when
                    cast(subscriptions.ended_at as date) >= eligible.snapshot_date
                    and cast(subscriptions.ended_at as date) < eligible.horizon_end
                    then cast(subscriptions.ended_at as date)
            end
        ) as last_subscription_end_date
    from eligible
    inner join subscriptions
        on eligible.customer_id = subscriptions.customer_id
    where eligible.contract_type = 'subscription'
    group by eligible.customer_snapshot_id

),

labelled as (

    select
        eligible.*,
        future_activity.first_order_date,
        future_activity.first_contact_date,
        future_activity.first_complaint_date,
        future_activity.first_engagement_date,
        subscription_future.last_subscription_end_date,
        case
            when eligible.contract_type = 'subscription'
                then coalesce(subscription_future.active_at_horizon_end, 0) = 0
            else future_activity.first_order_date is null
        end as is_churned,
        case
            when eligible.contract_type = 'subscription'
                then coalesce(subscription_future.active_at_next_action_end, 0) = 0
            else future_activity.first_engagement_date is null
        end as is_churned_next_action,
        {{ dbt.dateadd('day', 'eligible.horizon_days - 1', 'eligible.snapshot_date') }} <= bounds.latest_date
        and coalesce(eligible.snapshot_date >= eligible.labels_from_date, true) as is_label_complete
    from eligible
    cross join bounds
    left join future_activity
        on eligible.customer_snapshot_id = future_activity.customer_snapshot_id
    left join subscription_future
        on eligible.customer_snapshot_id = subscription_future.customer_snapshot_id

),

final as (

    select
        customer_snapshot_id,
        customer_id,
        snapshot_date,
        contract_type,
        horizon_days,
        next_action_days,
        is_label_complete,
        is_churned,
        case
            when is_churned_next_action then 'churn'
            when first_complaint_date < next_action_end then 'complain'
            when first_contact_date < next_action_end then 'contact_support'
            when first_order_date < next_action_end then 'purchase'
            else 'none'
        end as next_action,
        first_order_date,
        first_contact_date,
        first_complaint_date,
        first_engagement_date,
        last_subscription_end_date
    from labelled

)

select * from final
