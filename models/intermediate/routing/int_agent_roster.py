"""Active agents calls can be routed to, with their tier, pool language and suitability.

See empathy.routing.roster; int_call_routing__assignments matches customers to them. Says in audit.model_status
when there is no agent (no `agents` table: routing gives tiers and skills only).
"""


def model(dbt, session):
    dbt.config(materialized="table")
    from empathy import status
    from empathy.routing import roster

    agents = dbt.ref("stg_support__agents").to_arrow_table()
    return status.recorded(session, "int_agent_roster", roster.agent_roster, agents)
