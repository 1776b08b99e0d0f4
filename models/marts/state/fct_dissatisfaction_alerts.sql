{{ config(meta={"status_from": ["int_customer_states__scored.state"]}) }}

{#-
    Segment-days whose share of unhappy customers (Empathy Score below 45 on
    an eventful day) spikes against the segment's own baseline: the 28 days
    before, pooled. One row per alert. A segment is everyone, or one value of
    language, customer segment, country or lifecycle stage. The z-score is the
    day's share against the baseline mean in units of the baseline's day-to-day
    standard deviation (at least the binomial standard error of the day);
    an alert needs at least `alert_min_customer_days` customer-days that day,
    z >= 3 and a rise of at least 5 points.
-#}
{%- set dimensions = ['language', 'segment', 'country', 'lifecycle_stage'] -%}
{%- set min_days = var('alert_min_customer_days', 20) -%}

with

states as (

    select * from {{ ref('int_customer_emotional_states') }}

),

customers as (

    select * from {{ ref('int_customers') }}

),

eventful as (

    select
        states.customer_id,
        states.state_date,
        states.empathy_score,
        states.lifecycle_stage,
        customers.language,
        customers.segment,
        customers.country
    from states
    inner join customers
        on states.customer_id = customers.customer_id
    where states.is_eventful

),

segment_days as (

    select
        'all' as segment_dimension,
        'all' as segment_value,
        state_date,
        count(*) as customer_days,
        cast(sum(case when empathy_score < 45 then 1 else 0 end) as bigint) as unhappy_days,
        avg(empathy_score) as mean_empathy_score
    from eventful
    group by state_date
    {%- for dimension in dimensions %}
    union all
    select
        '{{ dimension }}' as segment_dimension,
        coalesce(cast({{ dimension }} as {{ dbt.type_string() }}), 'unknown') as segment_value,
        state_date,
        count(*) as customer_days,
        cast(sum(case when empathy_score < 45 then 1 else 0 end) as bigint) as unhappy_days,
        avg(empathy_score) as mean_empathy_score
    from eventful
    group by
        coalesce(cast({{ dimension }} as {{ dbt.type_string() }}), 'unknown'),
        state_date
    {%- endfor %}

),

baselines as (

    select
        segment_dimension,
        segment_value,
        state_date,
        customer_days,
        unhappy_days,
        mean_empathy_score,
        unhappy_days * 1.0 / customer_days as unhappy_share,
        avg(unhappy_days * 1.0 / customer_days) over (
            partition by segment_dimension, segment_value
            order by {{ day_index('state_date') }}
            range between 28 preceding and 1 preceding
        ) as baseline_share,
        stddev_samp(unhappy_days * 1.0 / customer_days) over (
            partition by segment_dimension, segment_value
            order by {{ day_index('state_date') }}
            range between 28 preceding and 1 preceding
        ) as baseline_sd,
        count(*) over (
            partition by segment_dimension, segment_value
            order by {{ day_index('state_date') }}
            range between 28 preceding and 1 preceding
        ) as baseline_days
    from segment_days

),

tested as (

    select
        *,
        (unhappy_share - baseline_share)
        / greatest(baseline_sd, sqrt(greatest(baseline_share * (1 - baseline_share), 0.0025) / customer_days))
            as z_score
    from baselines
    where
        customer_days >= {{ min_days }}
        and baseline_days >= 14

),

final as (

    select
        {{ dbt.concat([
            'segment_dimension', "':'", 'segment_value', "':'", 'cast(state_date as ' ~ dbt.type_string() ~ ')'
        ]) }} as alert_id,
        state_date as alert_date,
        segment_dimension,
        segment_value,
        customer_days,
        unhappy_days,
        unhappy_share,
        baseline_share,
        baseline_sd,
        baseline_days,
        unhappy_share - baseline_share as share_increase,
        z_score,
        mean_empathy_score,
        case
            when z_score >= 5 then 'critical'
            when z_score >= 4 then 'high'
            else 'medium'
        end as severity
    from tested
    where
        z_score >= 3
        and unhappy_share - baseline_share >= 0.05

)

select * from final
