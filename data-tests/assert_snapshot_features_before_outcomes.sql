-- Point in time: a snapshot's features are as of the day before its date, and every outcome it is labelled
-- with happens on or after that date, within the horizon.

with

snapshots as (

    select * from {{ ref('int_customer_snapshots') }}

),

outcomes as (

    select * from {{ ref('int_customer_snapshot_outcomes') }}

)

select
    snapshots.customer_snapshot_id,
    snapshots.feature_date,
    snapshots.snapshot_date
from snapshots
left join outcomes
    on snapshots.customer_snapshot_id = outcomes.customer_snapshot_id
where
    snapshots.feature_date != {{ dbt.dateadd('day', -1, 'snapshots.snapshot_date') }}
    or outcomes.first_order_date < outcomes.snapshot_date
    or outcomes.first_contact_date < outcomes.snapshot_date
    or outcomes.first_engagement_date < outcomes.snapshot_date
    or outcomes.first_order_date >= {{ dbt.dateadd('day', 'outcomes.horizon_days', 'outcomes.snapshot_date') }}
