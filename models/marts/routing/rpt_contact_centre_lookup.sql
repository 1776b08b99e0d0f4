{{ config(materialized='view', meta={"status_from": ["int_agent_roster.agents"]}) }}

{#-
    What an agent needs to know about a caller, in one row per customer: the
    Empathy Score and its band, the dominant emotion, open issues, the routing
    priority and a note in plain words. A view, so every run (and every
    publication, which copies it) shows the latest build. Scores appear only
    under profiling consent when routing_requires_profiling_consent.
-#}
{%- set needs_consent = var('routing_requires_profiling_consent', true) -%}

with

customers as (

    select * from {{ ref('stg_crm__customers') }}

),

snapshots as (

    select * from {{ ref('int_customer_snapshots') }}

),

states as (

    select * from {{ ref('int_customer_states__scored') }}

),

priorities as (

    select * from {{ ref('int_call_routing__priorities') }}

),

assignments as (

    select * from {{ ref('int_call_routing__assignments') }}

),

-- every customer with their scoring snapshot, latest state and routing
joined as (

    select
        customers.customer_id,
        snapshots.snapshot_date as score_date,
        {% if needs_consent %}coalesce(snapshots.has_profiling_consent, 0) = 1{% else %}true{% endif %} as is_profiled,
        states.empathy_score as state_empathy_score,
        states.dominant_emotion as state_dominant_emotion,
        cast(coalesce(snapshots.open_tickets, 0) as bigint) as open_tickets,
        cast(snapshots.oldest_open_ticket_days as bigint) as oldest_open_ticket_days,
        cast(coalesce(snapshots.overdue_parcels, 0) as bigint) as overdue_parcels,
        cast(coalesce(snapshots.complaints_30d, 0) as bigint) as complaints_30d,
        priorities.priority,
        priorities.reason_codes,
        priorities.route_tier,
        priorities.route_skill,
        assignments.agent_id as recommended_agent_id
    from customers
    left join snapshots
        on customers.customer_id = snapshots.customer_id and snapshots.is_scoring_snapshot
    left join states
        on customers.customer_id = states.customer_id and states.is_latest
    left join priorities
        on customers.customer_id = priorities.customer_id
    left join assignments
        on customers.customer_id = assignments.customer_id

),

shown as (

    select
        *,
        case when is_profiled then state_empathy_score end as empathy_score,
        case when is_profiled then state_dominant_emotion end as dominant_emotion
    from joined

),

final as (

    select
        customer_id,
        score_date,
        empathy_score,
        {{ empathy_band('empathy_score') }} as empathy_band,
        dominant_emotion,
        open_tickets,
        oldest_open_ticket_days,
        overdue_parcels,
        complaints_30d,
        coalesce(priority, 'none') as routing_priority,
        reason_codes,
        route_tier,
        route_skill,
        recommended_agent_id,
        is_profiled,
        coalesce(nullif(concat_ws(
            '; ',
            case
                when empathy_score < 35 then 'upset (Empathy Score ' || round(empathy_score, 1) || ')'
            end,
            case
                when dominant_emotion in ('anger', 'disgust', 'sadness', 'fear')
                    then 'mostly feels ' || dominant_emotion
            end,
            case
                when open_tickets > 0
                    then
                        open_tickets || ' open ticket(s), oldest '
                        || coalesce(cast(oldest_open_ticket_days as integer), 0) || ' day(s)'
            end,
            case when complaints_30d > 0 then 'complained in the last 30 days' end,
            case when overdue_parcels > 0 then overdue_parcels || ' parcel(s) overdue' end,
            case when priority is not null then priority || ' priority: ' || route_tier end,
            case when not is_profiled then 'no profiling consent: scores not shown' end
        ), ''), 'nothing open') as note
    from shown

)

select * from final
