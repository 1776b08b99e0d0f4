"""A Streamlit dashboard over the published database: one module per page, each with small query functions
(tested without a browser) and a `render(con)` that draws them.

| page | reads |
|---|---|
| overview | dim_customers, fct_customer_emotional_states, fct_emotional_journey, fct_dissatisfaction_alerts |
| customers | fct_churn_scores, fct_next_actions, fct_score_explanations |
| effects | dim_event_library |
| actions | dim_empagraphic_segments, fct_segment_transitions, fct_next_best_actions, fct_contact_suppressions, fct_call_routing, fct_treatment_outcomes, fct_empathy_impact |
| models | fct_model_backtests, dim_model_versions |
| quality | audit.gate_results, audit.load_log, audit.quarantine, audit.mart_status, audit.model_status |
"""

from __future__ import annotations

from empathy.dashboard.pages import actions, customers, effects, models, overview, quality

PAGES = [overview, customers, effects, actions, models, quality]
