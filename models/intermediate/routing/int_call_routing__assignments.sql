{#-
    One row per customer of int_call_routing__priorities with the agent
    recommended for them (null without an agent in their tier, or without an
    agents table). Each agent serves one pool: its team and its pool language
    (int_agent_roster). A customer joins the pool of their tier and language,
    else their tier's largest pool. In a pool, customers in order (emotionally
    charged first, then by priority points, then id) fill the agents in order
    of suitability (QA and empathy scores, then experience, then id), each up
    to the load cap: the even split of the pool raised by
    routing_max_load_share_above_even, rounded up. The most upset customers
    get the best agents and no agent passes the cap. DECISIONLOG.md.
-#}
{%- set share = var('routing_max_load_share_above_even', 0.25) -%}

with

priorities as (

    select * from {{ ref('int_call_routing__priorities') }}

),

roster as (

    select * from {{ ref('int_agent_roster') }}

),

-- each pool (team, language) with its agents, the largest pool of each team first
pools as (

    select
        team,
        pool_language,
        count(*) as pool_agents,
        row_number() over (partition by team order by count(*) desc, pool_language asc) as size_rank
    from roster
    group by team, pool_language

),

-- the pool of each customer: their tier and language, else the tier's largest pool
placed as (

    select
        priorities.*,
        coalesce(own.pool_language, largest.pool_language) as pool_language,
        coalesce(own.pool_agents, largest.pool_agents) as pool_agents
    from priorities
    left join pools as own
        on priorities.route_tier = own.team and priorities.language = own.pool_language
    left join pools as largest
        on priorities.route_tier = largest.team and largest.size_rank = 1

),

ordered as (

    select
        *,
        row_number() over (
            partition by route_tier, pool_language
            order by is_emotionally_charged desc, priority_points desc, customer_id asc
        ) as pool_rank,
        cast(ceil(
            count(*) over (partition by route_tier, pool_language) * (1 + {{ share }}) / pool_agents
        ) as {{ dbt.type_int() }}) as load_cap
    from placed

),

ranked_agents as (

    select
        *,
        row_number() over (
            partition by team, pool_language
            order by suitability desc nulls last, experience_years desc nulls last, agent_id asc
        ) as agent_rank
    from roster

),

final as (

    select
        ordered.customer_id,
        ordered.score_date,
        ordered.route_tier,
        ordered.pool_language,
        ordered.pool_rank,
        ordered.load_cap,
        ranked_agents.agent_id,
        ranked_agents.suitability as agent_suitability,
        ranked_agents.agent_id is not null
        and list_contains(string_split(coalesce(ranked_agents.languages, ''), ','), ordered.language)
            as is_language_matched,
        ranked_agents.agent_id is not null
        and (
            ordered.route_skill is null
            or list_contains(string_split(coalesce(ranked_agents.skills, ''), ','), ordered.route_skill)
        ) as is_skill_matched
    from ordered
    left join ranked_agents
        on
            ordered.route_tier = ranked_agents.team
            and ordered.pool_language is not distinct from ranked_agents.pool_language
            and ranked_agents.agent_rank = (ordered.pool_rank - 1) // ordered.load_cap + 1

)

select * from final
