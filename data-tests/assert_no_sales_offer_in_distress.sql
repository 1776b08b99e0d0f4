-- Sales offers to customers in distress or with an open complaint (must be none).

select
    actions.next_best_action_id,
    actions.treatment_id,
    signals.is_distressed,
    signals.has_open_ticket,
    signals.has_recent_complaint
from {{ ref('fct_next_best_actions') }} as actions
inner join {{ ref('int_customer_activation_signals') }} as signals
    on actions.customer_id = signals.customer_id
where
    actions.is_sales_offer
    and (signals.is_distressed or signals.has_open_ticket or signals.has_recent_complaint)
