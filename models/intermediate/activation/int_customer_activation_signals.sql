{{ config(materialized='table') }}

{#-
    What the activation rules need to know of each customer on the scoring
    date: one row per customer of the scoring snapshot (int_customer_snapshots),
    with their consent (int_customer_consents), the latest Empathy Score
    (int_customer_states__scored), the flags the ethics rules and the
    suppressions read, and their concrete open issues (int_customer_open_issues).
    Thresholds are vars (dbt_project.yml, DECISIONLOG.md).
-#}
{%- set distress = var('distress_empathy_score', 35) -%}

with

snapshots as (

    select * from {{ ref('int_customer_snapshots') }}

),

states as (

    select * from {{ ref('int_customer_states__scored') }}

),

consents as (

    select * from {{ ref('int_customer_consents') }}

),

issues as (

    select * from {{ ref('int_customer_open_issues') }}

),

scoring as (

    select *
    from snapshots
    where is_scoring_snapshot

),

final as (

    select
        scoring.customer_id,
        scoring.snapshot_date as score_date,
        consents.is_activation_scored,
        consents.has_consent_data,
        consents.has_profiling_consent,
        scoring.lifecycle_stage,
        scoring.tenure_days,
        scoring.days_since_order,
        scoring.orders_365d,
        scoring.has_email = 1 as has_email,
        states.empathy_score,
        coalesce(states.empathy_score < {{ distress }}, false) as is_distressed,
        coalesce(scoring.open_tickets, 0) > 0 or issues.open_ticket_id is not null as has_open_ticket,
        coalesce(scoring.complaints_30d, 0) + coalesce(scoring.cancellation_intents_90d, 0) > 0
            as has_recent_complaint,
        coalesce(scoring.ignored_survey_invitations_90d, 0) >= {{ var('survey_fatigue_ignored_invitations', 3) }}
            as is_survey_fatigued,
        coalesce(scoring.marketing_emails_7d, 0) >= {{ var('contact_cap_marketing_7d', 4) }}
        or coalesce(scoring.marketing_emails_30d, 0) >= {{ var('contact_cap_marketing_30d', 12) }}
            as is_over_contacted,
        coalesce(scoring.marketing_emails_7d, 0) as marketing_emails_7d,
        coalesce(scoring.marketing_emails_30d, 0) as marketing_emails_30d,
        coalesce(scoring.spam_complaints_90d, 0) > 0 as has_spam_complaint,
        issues.open_ticket_id,
        issues.open_ticket_topic,
        issues.open_ticket_days,
        issues.late_order_id,
        issues.late_order_days,
        issues.is_late_order_still_overdue,
        issues.failed_payment_amount,
        issues.failed_payment_currency,
        issues.failed_payment_days_ago
    from scoring
    inner join consents
        on scoring.customer_id = consents.customer_id
    left join states
        on
            scoring.customer_id = states.customer_id
            and scoring.feature_date = states.state_date
    left join issues
        on scoring.customer_id = issues.customer_id

)

select * from final
