{{ config(materialized='table', meta={"status_from": ["int_next_action_probabilities", "int_model_registry.churn"]}) }}

{#-
    One row per eligible customer on the scoring date: the probabilities of
    the next action (int_next_action_probabilities), upsell readiness and the
    recommended action with its reason. The rules are here, in SQL, so they
    can be read and changed; the thresholds are vars (DECISIONLOG.md).

    A paying subscriber (an active subscription on the scoring date) at high
    churn risk is retained (a renewal or retention offer on the contract),
    unless a senior agent or reassurance comes first because they are upset;
    an upsell needs low churn risk.
-#}
{%- set distress = var('distress_empathy_score', 35) -%}
{%- set delight = var('upsell_min_empathy_score', 70) -%}

with

probabilities as (

    select * from {{ ref('int_next_action_probabilities') }}

),

churn_scores as (

    select * from {{ ref('int_churn_scores') }}

),

clv as (

    select * from {{ ref('int_clv') }}

),

snapshots as (

    select * from {{ ref('int_customer_snapshots') }}

),

states as (

    select * from {{ ref('int_customer_emotional_states') }}

),

latest_states as (

    select
        customer_id,
        empathy_score
    from states
    where is_latest

),

joined as (

    select
        probabilities.*,
        coalesce(latest_states.empathy_score, 50) as empathy_score,
        latest_states.empathy_score is null as is_empathy_score_missing,
        churn_scores.churn_probability,
        churn_scores.churn_risk_band,
        coalesce(churn_scores.is_saveable, false) as is_saveable,
        coalesce(churn_scores.is_reachable, false) as is_reachable,
        clv.clv,
        clv.value_segment,
        snapshots.has_email_marketing_consent + snapshots.has_sms_marketing_consent > 0 as has_marketing_consent,
        coalesce(snapshots.over_contact_7d, 0) > 0 as is_over_contacted,
        coalesce(snapshots.open_tickets, 0) > 0 as has_open_ticket,
        coalesce(snapshots.complaints_30d, 0) + coalesce(snapshots.cancellation_intents_90d, 0) > 0
            as has_recent_complaint,
        coalesce(snapshots.days_since_engagement, 999) <= 30 as is_engaged,
        coalesce(snapshots.active_subscriptions, 0) > 0 as is_paying_subscriber
    from probabilities
    inner join snapshots
        on
            probabilities.customer_id = snapshots.customer_id
            and probabilities.score_date = snapshots.snapshot_date
    left join latest_states
        on probabilities.customer_id = latest_states.customer_id
    left join churn_scores
        on
            probabilities.customer_id = churn_scores.customer_id
            and probabilities.score_date = churn_scores.score_date
    left join clv
        on probabilities.customer_id = clv.customer_id

),

flagged as (

    select
        *,
        has_open_ticket
        and (
            empathy_score < {{ distress }}
            or has_recent_complaint
            or churn_risk_band = 'high'
            or p_complain >= 0.2
        ) as is_route_to_senior_agent,
        empathy_score < {{ distress }} and is_reachable and not has_open_ticket as is_upset_and_reachable,
        is_saveable or (empathy_score < {{ distress }} and is_reachable and not has_open_ticket) as is_reassure,
        is_paying_subscriber and churn_risk_band = 'high' as is_retain,
        not has_marketing_consent
        or is_over_contacted
        or empathy_score < {{ distress }}
        or has_open_ticket
        or has_recent_complaint as is_do_not_market,
        empathy_score >= {{ delight }}
        and is_engaged
        and churn_risk_band = 'low'
        and coalesce(value_segment, 'none') != 'high'
        and has_marketing_consent
        and not is_over_contacted
        and not has_open_ticket as is_upsell_ready,
        cast(empathy_score / 100.0 * (1 - coalesce(churn_probability, 0)) as {{ type_double() }})
            as upsell_readiness
    from joined

),

final as (

    select
        {{ dbt.concat(['customer_id', "':'", 'cast(score_date as ' ~ dbt.type_string() ~ ')']) }}
            as next_action_id,
        customer_id,
        score_date,
        predicted_next_action,
        p_churn,
        p_complain,
        p_contact_support,
        p_purchase,
        p_none,
        empathy_score,
        is_empathy_score_missing,
        churn_probability,
        churn_risk_band,
        clv,
        upsell_readiness,
        is_upsell_ready,
        is_route_to_senior_agent,
        is_reassure,
        is_retain,
        is_do_not_market,
        case
            when is_route_to_senior_agent then 'route_to_senior_agent'
            when is_retain and not is_upset_and_reachable then 'retain'
            when is_reassure then 'reassure'
            when is_upsell_ready then 'upsell'
            when is_do_not_market then 'do_not_market'
            else 'nurture'
        end as recommended_action,
        case
            when is_route_to_senior_agent then 'open ticket and distress, a complaint or high churn risk'
            when is_retain and not is_upset_and_reachable and is_do_not_market
                then 'paying subscriber at high churn risk: a renewal or retention offer on the account, no marketing'
            when is_retain and not is_upset_and_reachable
                then 'paying subscriber at high churn risk: a renewal or retention offer'
            when is_saveable then 'high churn risk, still reachable and responsive'
            when is_reassure then 'upset (Empathy Score below {{ distress }}) and reachable'
            when is_upsell_ready then 'delighted, engaged, low churn risk, room to grow'
            when not has_marketing_consent then 'no marketing consent'
            when is_over_contacted then 'over-contacted this week'
            when is_do_not_market then 'upset, complaining or waiting on a ticket'
            else 'no special treatment'
        end as action_reason,
        model_version
    from flagged

)

select * from final
