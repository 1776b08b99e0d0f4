{#
    Typed, cleaned columns shared by a staging model of the latest version of a
    record and its companion holding every version, so both clean a column the
    same way. Each renders select items followed by a comma and a new line.

    crm_customer_columns(): created_at .. acquisition_channel of a CRM customer
    (stg_crm__customers, stg_crm__customer_versions); the e-mail is hashed.

    subscription_columns(): customer_id .. cancel_reason of a subscription
    (stg_commerce__subscriptions, stg_commerce__subscription_versions).
#}
{% macro crm_customer_columns() -%}
    created_at,
    updated_at,
    {{ hash_pii('email') }} as email_hash,
    nullif(trim(email), '') is not null as has_email,
    birth_year,
    lower(trim(age_band)) as age_band,
    lower(trim(gender)) as gender,
    upper(trim(country)) as country,
    lower(trim(language)) as language,
    nullif(trim(locale), '') as locale,
    nullif(trim(region), '') as region,
    lower(trim(segment)) as segment,
    nullif(trim(company_name), '') as company_name,
    nullif(trim(industry), '') as industry,
    lower(trim(company_size)) as company_size,
    lower(trim(acquisition_channel)) as acquisition_channel,
{%- endmacro %}


{% macro subscription_columns() -%}
    customer_id,
    nullif(trim(plan), '') as plan,
    started_at,
    ended_at,
    updated_at,
    monthly_amount,
    previous_monthly_amount,
    price_changed_at,
    monthly_amount - previous_monthly_amount as last_price_change_amount,
    upper(trim(currency)) as currency,
    lower(trim(status)) as subscription_status,
    nullif(trim(cancel_reason), '') as cancel_reason,
{%- endmacro %}
