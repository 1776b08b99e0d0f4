{{ config(meta={"status_from": ["int_customer_segments.segments"]}) }}

{#-
    Weekly segment transitions: one row per week and (from, to) pair of
    segments, with the customers and their share of the `from` segment
    (int_segment_transitions).
-#}

with

transitions as (

    select * from {{ ref('int_segment_transitions') }}

),

final as (

    select
        segment_transition_id,
        week_start,
        from_segment,
        to_segment,
        from_segment = to_segment as is_same_segment,
        customers,
        share_of_from
    from transitions

)

select * from final
