-- No interaction happens after the wall clock of the build (the gate's
-- not-in-the-future rule), give or take the clock-skew tolerance the gate
-- allows (var future_tolerance_hours, 1 hour). The one place that reads the
-- wall clock: models are judged at int_as_of_date.
select
    interaction_id,
    occurred_at
from {{ ref('fct_interactions') }}
where occurred_at > {{ dbt.dateadd('hour', var('future_tolerance_hours', 1), utc_now()) }}
