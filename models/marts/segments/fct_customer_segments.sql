{{ config(meta={"status_from": ["int_customer_segments.segments"]}) }}

{#-
    The empagraphic segment of every customer on every day of the segment
    history (int_customer_segments), with its readable name and the reason in
    words naming the customer's values. `is_latest` marks the latest data day.
-#}

with

segments as (

    select * from {{ ref('int_customer_segments') }}

),

definitions as (

    select * from {{ ref('empagraphic_segments') }}

),

final as (

    select
        segments.customer_segment_id,
        segments.customer_id,
        segments.segment_date,
        segments.segment_date = max(segments.segment_date) over () as is_latest,
        segments.segment_id,
        definitions.segment_name,
        segments.segment_reason,
        segments.rule_segment,
        segments.days_rules_point_elsewhere,
        segments.had_interaction,
        segments.has_state,
        segments.country,
        segments.lifecycle_stage,
        segments.valence,
        segments.valence_change_30d,
        segments.empathy_score,
        segments.value_percentile
    from segments
    inner join definitions
        on segments.segment_id = definitions.segment_id

)

select * from final
