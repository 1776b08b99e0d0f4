{{ config(materialized='table') }}

{#-
    Channels counted per customer: the channels of the interaction_types seed.
    A channel added to the seed needs a column here (and in the yml).
-#}
{%- set channels = ['order', 'billing', 'ticket', 'chat', 'phone', 'email', 'web', 'survey', 'review', 'social'] -%}
{%- set customer_columns = [
    'customer_id', 'created_at', 'updated_at', 'email_hash', 'has_email', 'birth_year', 'age_band',
    'gender', 'country', 'language', 'locale', 'region', 'segment', 'company_name', 'industry',
    'company_size', 'acquisition_channel',
] -%}
{#- Columns computed here; a company column of the same name is not carried through. -#}
{%- set computed_columns = [
    'tenure_days', 'first_order_at', 'last_order_at', 'lifetime_orders', 'cancelled_orders',
    'returned_orders', 'lifetime_revenue', 'active_subscriptions', 'monthly_recurring_amount',
    'first_interaction_at', 'last_interaction_at', 'last_inbound_interaction_at', 'interactions',
    'inbound_interactions', 'outbound_interactions', 'is_email_marketing_consented',
    'email_marketing_consented_at', 'last_email_unsubscribe_at', 'last_email_complaint_at',
    'is_email_marketable', 'is_profiling_consented', 'as_of', 'loaded_at',
] -%}
{%- set customers_relation = ref('stg_crm__customers') -%}
{#-
    Extra columns the company sent ride along, except personal ones: those the
    screening (int_feature_exclusions) classes as personal data and those it
    does not judge (dates, other types) stay in staging (macro byo_personal_columns).
-#}
{%- set personal_columns = byo_personal_columns(customers_relation, byo_known_columns('customer'), 'customer') -%}
{%- for channel in channels %}{% do computed_columns.append(channel ~ '_interactions') %}{% endfor %}
{%- set not_carried = customer_columns + computed_columns + personal_columns %}
-- depends_on: {{ ref('int_feature_exclusions') }}

with

customers as (

    select * from {{ ref('stg_crm__customers') }}

),

orders as (

    select * from {{ ref('stg_commerce__orders') }}

),

subscriptions as (

    select * from {{ ref('stg_commerce__subscriptions') }}

),

consents as (

    select * from {{ ref('stg_crm__consents') }}

),

interactions as (

    select * from {{ ref('int_interactions') }}

),

as_of as (

    {{ as_of_dates() }}

),

order_summary as (

    select
        customer_id,
        min(ordered_at) as first_order_at,
        max(ordered_at) as last_order_at,
        count(*) as lifetime_orders,
        count(case when order_status = 'cancelled' then 1 end) as cancelled_orders,
        count(case when order_status = 'returned' then 1 end) as returned_orders,
        sum(
            case when order_status not in ('cancelled', 'returned') then order_total else 0 end
        ) as lifetime_revenue
    from orders
    group by customer_id

),

subscription_summary as (

    select
        customer_id,
        count(case when subscription_status = 'active' then 1 end) as active_subscriptions,
        sum(case when subscription_status = 'active' then monthly_amount else 0 end) as monthly_recurring_amount
    from subscriptions
    group by customer_id

),

interaction_summary as (

    select
        customer_id,
        min(occurred_at) as first_interaction_at,
        max(occurred_at) as last_interaction_at,
        max(case when direction = 'inbound' then occurred_at end) as last_inbound_interaction_at,
        count(*) as interactions,
        count(case when direction = 'inbound' then 1 end) as inbound_interactions,
        count(case when direction = 'outbound' then 1 end) as outbound_interactions,
        {%- for channel in channels %}
        count(case when channel = '{{ channel }}' then 1 end) as {{ channel }}_interactions,
        {%- endfor %}
        max(case when interaction_type = 'email_unsubscribe' then occurred_at end) as last_email_unsubscribe_at,
        max(case when interaction_type = 'email_complaint' then occurred_at end) as last_email_complaint_at
    from interactions
    where customer_id is not null
    group by customer_id

),

-- A consent is in force from its grant until its revocation, judged at the build's as-of time.
consents_in_force as (

    select consents.*
    from consents
    cross join as_of
    where
        consents.granted_at <= as_of.as_of
        and (consents.revoked_at is null or consents.revoked_at > as_of.as_of)

),

consent_summary as (

    select
        customer_id,
        max(
            case
                when consent_purpose = 'marketing' and consent_channel in ('email', 'any') then granted_at
            end
        ) as email_marketing_consented_at,
        count(case when consent_purpose = 'profiling' then 1 end) > 0 as is_profiling_consented
    from consents_in_force
    group by customer_id

),

final as (

    select
        {%- for name in customer_columns %}
        customers.{{ name }},
        {%- endfor %}
        {{ star_except(customers_relation, except=not_carried, relation_alias='customers') }}
        {{ dbt.datediff('customers.created_at', 'as_of.as_of', 'day') | trim }}
            as tenure_days,
        order_summary.first_order_at,
        order_summary.last_order_at,
        coalesce(order_summary.lifetime_orders, 0) as lifetime_orders,
        coalesce(order_summary.cancelled_orders, 0) as cancelled_orders,
        coalesce(order_summary.returned_orders, 0) as returned_orders,
        coalesce(order_summary.lifetime_revenue, 0) as lifetime_revenue,
        coalesce(subscription_summary.active_subscriptions, 0) as active_subscriptions,
        coalesce(subscription_summary.monthly_recurring_amount, 0) as monthly_recurring_amount,
        interaction_summary.first_interaction_at,
        interaction_summary.last_interaction_at,
        interaction_summary.last_inbound_interaction_at,
        coalesce(interaction_summary.interactions, 0) as interactions,
        coalesce(interaction_summary.inbound_interactions, 0) as inbound_interactions,
        coalesce(interaction_summary.outbound_interactions, 0) as outbound_interactions,
        {%- for channel in channels %}
        coalesce(interaction_summary.{{ channel }}_interactions, 0) as {{ channel }}_interactions,
        {%- endfor %}
        consent_summary.email_marketing_consented_at,
        consent_summary.email_marketing_consented_at is not null as is_email_marketing_consented,
        coalesce(consent_summary.is_profiling_consented, false) as is_profiling_consented,
        interaction_summary.last_email_unsubscribe_at,
        interaction_summary.last_email_complaint_at,
        {#-
            Marketable by e-mail: an address, an e-mail marketing consent in force,
            and no unsubscribe or spam complaint since that consent was given.
        #}
        coalesce(
            customers.has_email
            and consent_summary.email_marketing_consented_at is not null
            and (
                interaction_summary.last_email_unsubscribe_at is null
                or interaction_summary.last_email_unsubscribe_at < consent_summary.email_marketing_consented_at
            )
            and (
                interaction_summary.last_email_complaint_at is null
                or interaction_summary.last_email_complaint_at < consent_summary.email_marketing_consented_at
            ),
            false
        ) as is_email_marketable,
        as_of.as_of,
        customers.loaded_at
    from customers
    cross join as_of
    left join order_summary
        on customers.customer_id = order_summary.customer_id
    left join subscription_summary
        on customers.customer_id = subscription_summary.customer_id
    left join interaction_summary
        on customers.customer_id = interaction_summary.customer_id
    left join consent_summary
        on customers.customer_id = consent_summary.customer_id

)

select * from final
