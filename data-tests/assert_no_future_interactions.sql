-- No interaction happens after the build's as-of time, give or take the
-- clock-skew tolerance the gate allows (var future_tolerance_hours, 1 hour).
select
    interaction_id,
    occurred_at
from {{ ref('fct_interactions') }}
where occurred_at > {{ dbt.dateadd('hour', var('future_tolerance_hours', 1), as_of_timestamp()) }}
