{{ config(meta={"status_from": ["int_consent_coverage.consent"]}) }}

{#-
    Who must not be marketed to today: one row per customer, channel and
    reason on the scoring date, with the day the reason lifts if nothing new
    happens (null: until the customer consents). See int_contact_suppressions.
-#}

with

suppressions as (

    select * from {{ ref('int_contact_suppressions') }}

),

final as (

    select
        suppression_id,
        customer_id,
        score_date,
        channel,
        reason_code,
        suppressed_until
    from suppressions

)

select * from final
