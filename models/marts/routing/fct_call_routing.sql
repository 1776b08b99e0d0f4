{{ config(meta={"status_from": ["int_agent_roster.agents"]}) }}

{#-
    One row per customer likely to contact on the scoring date: the priority
    and its reasons, the agent tier and skill to route to and, with an agents
    table, the recommended agent (int_call_routing__assignments). Without
    agents: tiers and skills only, and audit.model_status says so.
-#}

with

priorities as (

    select * from {{ ref('int_call_routing__priorities') }}

),

assignments as (

    select * from {{ ref('int_call_routing__assignments') }}

),

final as (

    select
        {{ dbt.concat(['priorities.customer_id', "':'", 'cast(priorities.score_date as ' ~ dbt.type_string() ~ ')']) }}
            as routing_id,
        priorities.customer_id,
        priorities.score_date,
        priorities.priority,
        priorities.priority_points,
        priorities.reason_codes,
        priorities.is_emotionally_charged,
        priorities.route_tier,
        priorities.route_skill,
        priorities.language,
        assignments.agent_id as recommended_agent_id,
        assignments.agent_suitability,
        assignments.is_language_matched,
        assignments.is_skill_matched,
        assignments.load_cap,
        priorities.uses_profile as is_profiled
    from priorities
    inner join assignments
        on priorities.customer_id = assignments.customer_id

)

select * from final
