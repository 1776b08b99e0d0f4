-- The next-action probabilities of a customer are a distribution: each in [0, 1], summing to 1.

select
    next_action_id,
    p_churn,
    p_complain,
    p_contact_support,
    p_purchase,
    p_none
from {{ ref('fct_next_actions') }}
where
    abs(p_churn + p_complain + p_contact_support + p_purchase + p_none - 1) > 1e-6
    or least(p_churn, p_complain, p_contact_support, p_purchase, p_none) < 0
