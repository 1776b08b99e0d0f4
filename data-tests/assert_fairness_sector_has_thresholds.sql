-- The sector of empathy.yml (var sector) has rows in the fairness_thresholds seed: a sector without any would
-- judge nothing and let every breach pass silently.

with

thresholds as (

    select * from {{ ref('fairness_thresholds') }}

),

sector_rows as (

    select count(*) as n_thresholds
    from thresholds
    where sector = '{{ var("sector", "retail") }}'

)

select
    '{{ var("sector", "retail") }}' as sector,
    n_thresholds
from sector_rows
where n_thresholds = 0
