"""Call routing: the agents a contact centre can route to (int_agent_roster)."""
