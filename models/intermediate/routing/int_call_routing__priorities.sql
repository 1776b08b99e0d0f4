{#-
    One row per customer likely to contact on the scoring date: why they may
    call, how urgent it is (priority points, band and reason codes) and the
    agent tier and skill to route them to. Routing is a service: it needs no
    marketing consent; model scores (Empathy Score, emotions, churn and
    contact probabilities) count only under profiling consent when
    routing_requires_profiling_consent. Rules and points: DECISIONLOG.md.
-#}
{%- set needs_consent = var('routing_requires_profiling_consent', true) -%}

with

snapshots as (

    select * from {{ ref('int_customer_snapshots') }}

),

probabilities as (

    select * from {{ ref('int_next_action_probabilities') }}

),

states as (

    select * from {{ ref('int_customer_states__scored') }}

),

customers as (

    select * from {{ ref('stg_crm__customers') }}

),

-- the scoring snapshot of every customer, with the latest state and the next-action probabilities
joined as (

    select
        snapshots.customer_id,
        snapshots.snapshot_date as score_date,
        customers.language,
        {% if needs_consent %}coalesce(snapshots.has_profiling_consent, 0) = 1{% else %}true{% endif %} as uses_profile,
        coalesce(snapshots.open_tickets, 0) as open_tickets,
        snapshots.oldest_open_ticket_days,
        coalesce(snapshots.overdue_parcels, 0) as overdue_parcels,
        coalesce(snapshots.live_contacts_30d, 0) as live_contacts_30d,
        coalesce(snapshots.complaints_30d, 0) > 0 as has_recent_complaint,
        coalesce(snapshots.cancellation_intents_90d, 0) > 0 as has_cancellation_intent,
        coalesce(snapshots.late_deliveries_30d, 0) > 0 as has_late_delivery,
        coalesce(snapshots.defect_returns_90d, 0) > 0 as has_defect_return,
        coalesce(snapshots.payment_failures_30d, 0) + coalesce(snapshots.refunds_30d, 0) > 0 as has_billing_issue,
        coalesce(snapshots.error_sessions_7d, 0) > 0 as has_site_errors,
        states.empathy_score,
        states.dominant_emotion,
        states.p_anger,
        probabilities.p_contact_support,
        probabilities.p_complain,
        probabilities.p_churn
    from snapshots
    left join customers
        on snapshots.customer_id = customers.customer_id
    left join states
        on snapshots.customer_id = states.customer_id and states.is_latest
    left join probabilities
        on
            snapshots.customer_id = probabilities.customer_id
            and snapshots.snapshot_date = probabilities.score_date
    where snapshots.is_scoring_snapshot

),

-- the reasons, each a flag; model scores only where profiling is allowed
flagged as (

    select
        *,
        open_tickets > 0 as has_open_ticket,
        open_tickets > 0
        and coalesce(oldest_open_ticket_days, 0) >= {{ var('routing_stale_ticket_days', 7) }} as has_stale_ticket,
        overdue_parcels > 0 as has_overdue_parcel,
        live_contacts_30d >= {{ var('routing_min_live_contacts_30d', 2) }} as has_repeat_contacts,
        uses_profile
        and coalesce(empathy_score, 100) < {{ var('routing_distress_empathy_score', 35) }} as is_distressed,
        uses_profile
        and (
            coalesce(dominant_emotion, '') in ('anger', 'disgust')
            or coalesce(p_anger, 0) >= {{ var('routing_min_p_anger', 0.4) }}
        ) as is_angry,
        uses_profile and coalesce(p_churn, 0) >= {{ var('routing_high_churn_p', 0.3) }} as is_high_churn_risk,
        uses_profile
        and (
            coalesce(p_contact_support, 0) >= {{ var('routing_min_p_contact_support', 0.3) }}
            or coalesce(p_complain, 0) >= {{ var('routing_min_p_complain', 0.2) }}
        ) as is_predicted_contact
    from joined

),

likely as (

    select
        *,
        is_distressed or is_angry or has_recent_complaint as is_emotionally_charged,
        cast(
            case when has_open_ticket then 30 else 0 end
            + case when has_stale_ticket then 10 else 0 end
            + case when is_distressed then 25 else 0 end
            + case when is_angry then 15 else 0 end
            + case when has_recent_complaint then 20 else 0 end
            + case when has_cancellation_intent then 15 else 0 end
            + case when is_high_churn_risk then 15 else 0 end
            + case when has_overdue_parcel then 10 else 0 end
            + case when has_repeat_contacts then 10 else 0 end
            + case when is_predicted_contact then 5 else 0 end
            as {{ dbt.type_int() }}
        ) as priority_points
    from flagged
    where has_open_ticket or has_overdue_parcel or has_repeat_contacts or is_predicted_contact

),

final as (

    select
        customer_id,
        score_date,
        language,
        uses_profile,
        priority_points,
        case
            when priority_points >= {{ var('routing_urgent_points', 60) }} then 'urgent'
            when priority_points >= {{ var('routing_high_points', 35) }} then 'high'
            else 'normal'
        end as priority,
        concat_ws(
            ',',
            case when has_open_ticket then 'open_ticket' end,
            case when has_stale_ticket then 'stale_ticket' end,
            case when is_distressed then 'distress' end,
            case when is_angry then 'anger' end,
            case when has_recent_complaint then 'complaint' end,
            case when has_cancellation_intent then 'cancellation_intent' end,
            case when is_high_churn_risk then 'churn_risk' end,
            case when has_overdue_parcel then 'overdue_parcel' end,
            case when has_repeat_contacts then 'repeat_contacts' end,
            case when is_predicted_contact then 'predicted_contact' end
        ) as reason_codes,
        is_emotionally_charged,
        case
            when is_emotionally_charged and priority_points >= {{ var('routing_high_points', 35) }} then 'senior'
            when has_cancellation_intent or is_high_churn_risk then 'retention'
            when has_stale_ticket or has_repeat_contacts then 'tier2'
            else 'tier1'
        end as route_tier,
        case
            when has_recent_complaint then 'complaints'
            when has_cancellation_intent or is_high_churn_risk then 'retention'
            when has_overdue_parcel or has_late_delivery then 'orders'
            when has_defect_return then 'returns'
            when has_billing_issue then 'billing'
            when has_site_errors then 'technical'
        end as route_skill,
        open_tickets,
        oldest_open_ticket_days,
        overdue_parcels,
        case when uses_profile then empathy_score end as empathy_score,
        case when uses_profile then dominant_emotion end as dominant_emotion
    from likely

)

select * from final
