{#-
    One row per week and pair of segments: how many customers were in
    `from_segment` at the end of the previous week and in `to_segment` at the
    end of this one (their last day in int_customer_segments that week; weeks
    start on Monday), and their share of the customers in `from_segment`.
    Customers whose previous week is missing (new) are left out.
-#}

with

segments as (

    select * from {{ ref('int_customer_segments') }}

),

-- each customer's segment on their last day of each week
week_ends as (

    select
        customer_id,
        cast({{ dbt.date_trunc('week', 'segment_date') }} as date) as week_start,
        segment_id,
        row_number() over (
            partition by customer_id, cast({{ dbt.date_trunc('week', 'segment_date') }} as date)
            order by segment_date desc
        ) as day_rank
    from segments

),

paired as (

    select
        customer_id,
        week_start,
        lag(week_start) over (partition by customer_id order by week_start) as previous_week_start,
        lag(segment_id) over (partition by customer_id order by week_start) as from_segment,
        segment_id as to_segment
    from week_ends
    where day_rank = 1

),

counted as (

    select
        week_start,
        from_segment,
        to_segment,
        count(*) as customers
    from paired
    where previous_week_start = cast({{ dbt.dateadd('day', -7, 'week_start') }} as date)
    group by week_start, from_segment, to_segment

),

final as (

    select
        {{ dbt.concat([
            'cast(week_start as ' ~ dbt.type_string() ~ ')', "':'", 'from_segment', "':'", 'to_segment'
        ]) }} as segment_transition_id,
        week_start,
        from_segment,
        to_segment,
        cast(customers as {{ dbt.type_int() }}) as customers,
        cast(customers as {{ type_double() }})
        / sum(customers) over (partition by week_start, from_segment) as share_of_from
    from counted

)

select * from final
