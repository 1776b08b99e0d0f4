{{ config(materialized='table') }}

{#-
    What happened after each treatment exposure: one row per exposure (stg
    treatment_exposures), treated or held out, over its outcome window, the
    var experiment_outcome_days days after the exposure day, cut at the
    latest day with data (int_as_of_date):

    * observed_days and orders / revenue_usd placed in them (every exposure);
    * texts_after and mean_sentiment_after: the customer's texts in the
      window and their mean sentiment (int_customer_text_daily; null when the
      customer wrote nothing in it);
    * for a customer holding an active subscription when exposed: whether the
      customer churned (every subscription ended, the last on churn_date) in
      the window, and the days at risk up to and including the churn day.

    is_first_exposure marks a customer's first exposure to the experiment:
    only those are a randomised comparison (a later decision is taken after
    the customer's arm has acted on them). int_treatment_outcomes compares
    the arms on them (DECISIONLOG.md).
-#}
{%- set window_days = var('experiment_outcome_days', 60) %}

with

exposures as (

    select * from {{ ref('stg_marketing__treatment_exposures') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

orders as (

    select * from {{ ref('stg_commerce__orders') }}

),

subscriptions as (

    select * from {{ ref('stg_commerce__subscriptions') }}

),

currency_rates as (

    select * from {{ ref('currency_rates') }}

),

text_daily as (

    select * from {{ ref('int_customer_text_daily') }}

),

-- Each exposure's window: the days after the exposure day, cut at the latest day with data.
windows as (

    select
        exposures.exposure_id,
        exposures.customer_id,
        exposures.treatment_id,
        exposures.experiment_id,
        exposures.experiment_arm,
        cast(exposures.exposed_at as date) as exposed_date,
        row_number() over (
            partition by exposures.customer_id, exposures.experiment_id
            order by exposures.exposed_at, exposures.exposure_id
        ) = 1 as is_first_exposure,
        cast(least(
            {{ dbt.dateadd('day', window_days, 'cast(exposures.exposed_at as date)') }},
            as_of.latest_data_date
        ) as date) as window_end
    from exposures
    cross join as_of

),

window_orders as (

    select
        windows.exposure_id,
        cast(count(orders.order_id) as {{ dbt.type_int() }}) as orders,
        cast(sum(orders.order_total * coalesce(currency_rates.usd_per_unit, 1.0)) as {{ type_double() }})
            as revenue_usd
    from windows
    inner join orders
        on
            windows.customer_id = orders.customer_id
            and cast(orders.ordered_at as date) > windows.exposed_date
            and cast(orders.ordered_at as date) <= windows.window_end
    left join currency_rates
        on upper(orders.currency) = upper(currency_rates.currency)
    group by windows.exposure_id

),

-- The texts a customer wrote in the window and their mean sentiment (days weighted by their texts).
window_texts as (

    select
        windows.exposure_id,
        cast(sum(text_daily.n_texts) as {{ dbt.type_int() }}) as texts_after,
        cast(
            sum(text_daily.mean_sentiment * text_daily.n_texts) / nullif(sum(text_daily.n_texts), 0)
            as {{ type_double() }}
        ) as mean_sentiment_after
    from windows
    inner join text_daily
        on
            windows.customer_id = text_daily.customer_id
            and windows.exposed_date < text_daily.activity_date
            and windows.window_end >= text_daily.activity_date
    where text_daily.mean_sentiment is not null
    group by windows.exposure_id

),

-- A customer's subscription churn: every subscription ended, the date of the last end.
subscription_churn as (

    select
        customer_id,
        case when count(*) = count(ended_at) then cast(max(ended_at) as date) end as churn_date
    from subscriptions
    group by customer_id

),

subscribed as (

    select distinct windows.exposure_id
    from windows
    inner join exposures
        on windows.exposure_id = exposures.exposure_id
    inner join subscriptions
        on
            windows.customer_id = subscriptions.customer_id
            and exposures.exposed_at >= subscriptions.started_at
            and (subscriptions.ended_at is null or exposures.exposed_at < subscriptions.ended_at)

),

final as (

    select
        windows.exposure_id,
        windows.customer_id,
        windows.treatment_id,
        windows.experiment_id,
        windows.experiment_arm,
        windows.exposed_date,
        windows.is_first_exposure,
        windows.window_end,
        cast(
            greatest({{ dbt.datediff('windows.exposed_date', 'windows.window_end', 'day') }}, 0)
            as {{ dbt.type_int() }}
        ) as observed_days,
        coalesce(window_orders.orders, 0) as orders,
        coalesce(window_orders.revenue_usd, 0.0) as revenue_usd,
        coalesce(window_texts.texts_after, 0) as texts_after,
        window_texts.mean_sentiment_after,
        subscribed.exposure_id is not null as is_subscriber,
        case
            when subscribed.exposure_id is not null
                then coalesce(
                    subscription_churn.churn_date > windows.exposed_date
                    and subscription_churn.churn_date <= windows.window_end,
                    false
                )
        end as is_churned,
        case
            when subscribed.exposure_id is not null
                then cast(greatest({{ dbt.datediff(
                    'windows.exposed_date',
                    'case when subscription_churn.churn_date > windows.exposed_date
                        and subscription_churn.churn_date <= windows.window_end
                        then subscription_churn.churn_date else windows.window_end end',
                    'day'
                ) }}, 0) as {{ dbt.type_int() }})
        end as days_at_risk
    from windows
    left join window_orders
        on windows.exposure_id = window_orders.exposure_id
    left join window_texts
        on windows.exposure_id = window_texts.exposure_id
    left join subscribed
        on windows.exposure_id = subscribed.exposure_id
    left join subscription_churn
        on windows.customer_id = subscription_churn.customer_id

)

select * from final
