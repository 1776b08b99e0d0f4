{#-
    One row per customer and day of int_customer_segment_features: the
    segment today's rules give (`rule_segment`, the first rule that holds in
    the priority order of seed empagraphic_segments) and, for every segment,
    whether the customer still fits it with each threshold loosened by its
    hysteresis margin (`fits_<segment>`). int_customer_segments keeps a
    customer in a segment while they fit it, or until another rule has held
    for `segment_hold_days` days (DECISIONLOG.md).

    A rule that needs the emotional state falls back, when the day has none
    (no texts, no state model), to behaviour alone: negative = an open ticket
    or a complaint in 30 days; quietly drifting = engagement slipping; no one
    is a delighted advocate without a state.
-#}
{%- set negative_valence = var('segment_negative_valence', -0.2) -%}
{%- set positive_valence = var('segment_positive_valence', 0.3) -%}
{%- set valence_drop = var('segment_valence_drop', 0.15) -%}
{%- set loyal_percentile = var('segment_loyal_value_percentile', 0.7) -%}
{%- set new_days = var('segment_new_tenure_days', 60) -%}
{%- set engaged_days = var('segment_engaged_days', 30) -%}
{%- set drifting_days = var('segment_drifting_days', 45) -%}
{%- set lapsed_days = var('segment_lapsed_days', 180) -%}
{%- set regular_orders = var('segment_regular_orders', 2) -%}
{%- set valence_margin = var('segment_valence_margin', 0.1) -%}
{%- set percentile_margin = var('segment_percentile_margin', 0.1) -%}
{%- set days_margin = var('segment_days_margin', 14) -%}
{#- (suffix, how many margins each threshold is loosened by) -#}
{%- set strictness = [('strict', 0), ('fits', 1)] -%}

with

features as (

    select * from {{ ref('int_customer_segment_features') }}

),

-- each rule twice: as written (strict) and loosened by one margin towards staying in (fits)
tested as (

    select
        features.*,
    {%- for name, k in strictness %}
    {%- set vm = valence_margin * k %}
    {%- set pm = percentile_margin * k %}
    {%- set dm = days_margin * k %}
    (features.days_since_engagement is null and features.tenure_days > {{ new_days }} - {{ dm }})
    or (features.days_since_engagement >= {{ lapsed_days }} - {{ dm }} and features.open_tickets = 0)
        as {{ name }}_lapsed,
    case
        when features.valence is null then features.open_tickets > 0 or features.complaints_30d > 0
        else
            features.valence <= {{ negative_valence }} + {{ vm }}
            or (features.open_tickets > 0 and features.dominant_emotion in ('anger', 'disgust'))
    end as {{ name }}_negative,
    features.value_percentile >= {{ loyal_percentile }} - {{ pm }} and features.revenue_365d > 0 as {{ name }}_loyal,
    features.tenure_days <= {{ new_days }} + {{ dm }} and features.orders_365d <= 1
    and coalesce(features.valence < {{ positive_valence }} + {{ vm }}, true) as {{ name }}_new_and_unsure,
    features.open_tickets = 0 and features.complaints_30d = 0 and (
        coalesce(features.valence_change_30d <= -{{ valence_drop }} + {{ vm }}, false)
        or (
            features.days_since_engagement >= {{ drifting_days }} - {{ dm }}
            and features.orders_365d >= {{ regular_orders }}
        )
    ) as {{ name }}_quietly_drifting,
    coalesce(features.valence >= {{ positive_valence }} - {{ vm }}, false)
    and coalesce(features.days_since_engagement <= {{ engaged_days }} + {{ dm }}, false)
        as {{ name }}_delighted_advocates,
    features.orders_365d >= {{ regular_orders }}
    and coalesce(features.days_since_engagement < {{ drifting_days }} + {{ dm }}, false) as {{ name }}_steady_regulars
    {%- if not loop.last %},{% endif %}
    {%- endfor %}
    from features

),

final as (

    select
        customer_segment_id,
        customer_id,
        segment_date,
        had_interaction,
        country,
        tenure_days,
        lifecycle_stage,
        orders_365d,
        revenue_365d,
        value_percentile,
        days_since_order,
        days_since_engagement,
        open_tickets,
        complaints_30d,
        texts_90d,
        valence,
        valence_change_30d,
        arousal,
        dominant_emotion,
        empathy_score,
        valence is not null as has_state,
        case
            when strict_lapsed then 'lapsed'
            when strict_negative and strict_loyal then 'frustrated_loyalists'
            when strict_negative then 'upset'
            when strict_new_and_unsure then 'new_and_unsure'
            when strict_quietly_drifting then 'quietly_drifting'
            when strict_delighted_advocates then 'delighted_advocates'
            when strict_steady_regulars then 'steady_regulars'
            else 'occasional'
        end as rule_segment,
        coalesce(fits_lapsed, false) as fits_lapsed,
        coalesce(fits_negative and fits_loyal, false) as fits_frustrated_loyalists,
        coalesce(fits_negative, false) as fits_upset,
        coalesce(fits_new_and_unsure, false) as fits_new_and_unsure,
        coalesce(fits_quietly_drifting, false) as fits_quietly_drifting,
        coalesce(fits_delighted_advocates, false) as fits_delighted_advocates,
        coalesce(fits_steady_regulars, false) as fits_steady_regulars,
        true as fits_occasional
    from tested

)

select * from final
