{{ config(materialized='table') }}

{#-
    Each customer's consent as of the scoring date (int_as_of_date): one row
    per customer, a flag per contact channel and purpose, profiling consent,
    and whether the customer is scored for activation at all.

    A consent is in force when granted before the as-of day and not revoked
    before it; consent channel `any` covers every channel and `push` covers
    the in_app channel of the treatment catalogue. Without any consent data
    (int_consent_coverage) nobody holds marketing consent and every customer
    is scored for service actions only, on the company's contract basis
    (DECISIONLOG.md).
-#}
{%- set channels = {'email': 'email', 'sms': 'sms', 'phone': 'phone', 'in_app': 'push'} -%}

with

customers as (

    select * from {{ ref('stg_crm__customers') }}

),

consents as (

    select * from {{ ref('stg_crm__consents') }}

),

coverage as (

    select * from {{ ref('int_consent_coverage') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

-- The consents in force on the as-of day.
in_force as (

    select consents.*
    from consents
    cross join as_of
    where
        cast(consents.granted_at as date) < as_of.as_of_date
        and (consents.revoked_at is null or cast(consents.revoked_at as date) >= as_of.as_of_date)

),

-- One flag per channel and purpose (marketing, service), and profiling.
per_customer as (

    select
        customer_id,
        {%- for channel, consent_channel in channels.items() %}
        {%- for purpose in ['marketing', 'service'] %}
        max(
            case
                when consent_purpose = '{{ purpose }}' and consent_channel in ('{{ consent_channel }}', 'any')
                    then 1
                else 0
            end
        ) = 1 as has_{{ channel }}_{{ purpose }}_consent,
        {%- endfor %}
        {%- endfor %}
        max(case when consent_purpose = 'profiling' then 1 else 0 end) = 1 as has_profiling_consent
    from in_force
    group by customer_id

),

final as (

    select
        customers.customer_id,
        as_of.as_of_date,
        coverage.has_consent_data,
        coverage.activation_basis,
        {%- for channel in channels %}
        {%- for purpose in ['marketing', 'service'] %}
        coalesce(per_customer.has_{{ channel }}_{{ purpose }}_consent, false)
            as has_{{ channel }}_{{ purpose }}_consent,
        {%- endfor %}
        {%- endfor %}
        coalesce(per_customer.has_profiling_consent, false) as has_profiling_consent,
        (
            {%- for channel in channels %}
            coalesce(per_customer.has_{{ channel }}_marketing_consent, false){% if not loop.last %} or{% endif %}
            {%- endfor %}
        ) as has_any_marketing_consent,
        coalesce(per_customer.has_profiling_consent, false) or not coverage.has_consent_data as is_activation_scored
    from customers
    cross join as_of
    cross join coverage
    left join per_customer
        on customers.customer_id = per_customer.customer_id

)

select * from final
