{{ config(materialized='table') }}

{#-
    Who must not be marketed to on the scoring date: one row per customer,
    channel and reason, with the day the reason lifts if nothing new happens
    (re-derived every run). Reasons: predicted_distress, open_ticket,
    survey_fatigue, recent_complaint, over_contact (frequency caps) and
    no_consent (no marketing consent on the channel; no end date). A customer
    not scored for activation (no profiling consent) is suppressed only on
    facts, never on a prediction (DECISIONLOG.md). Windows are vars.
-#}
{%- set channels = ['email', 'sms', 'phone', 'in_app'] -%}
{%- set reasons = [
    ('predicted_distress', 'is_distressed and is_activation_scored', var('suppress_distress_days', 14)),
    ('open_ticket', 'has_open_ticket', var('suppress_open_ticket_days', 7)),
    ('survey_fatigue', 'is_survey_fatigued', var('suppress_survey_fatigue_days', 30)),
    ('recent_complaint', 'has_recent_complaint and is_activation_scored', var('suppress_recent_complaint_days', 30)),
    ('over_contact', 'is_over_contacted', var('suppress_over_contact_days', 7)),
] -%}

with

signals as (

    select * from {{ ref('int_customer_activation_signals') }}

),

consents as (

    select * from {{ ref('int_customer_consents') }}

),

channels as (

    {%- for channel in channels %}
    select '{{ channel }}' as channel{% if not loop.last %}
    union all{% endif %}
    {%- endfor %}

),

-- Customer-wide reasons: every channel.
customer_reasons as (

    {%- for reason, condition, days in reasons %}
    select
        customer_id,
        score_date,
        '{{ reason }}' as reason_code,
        cast({{ dbt.dateadd('day', days, 'score_date') }} as date) as suppressed_until
    from signals
    where {{ condition }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

channel_reasons as (

    select
        customer_reasons.customer_id,
        customer_reasons.score_date,
        channels.channel,
        customer_reasons.reason_code,
        customer_reasons.suppressed_until
    from customer_reasons
    cross join channels

),

-- No marketing consent on the channel: suppressed until the customer gives it.
no_consent as (

    select
        signals.customer_id,
        signals.score_date,
        channels.channel,
        'no_consent' as reason_code,
        cast(null as date) as suppressed_until
    from signals
    inner join consents
        on signals.customer_id = consents.customer_id
    cross join channels
    where
        not case channels.channel
            {%- for channel in channels %}
            when '{{ channel }}' then consents.has_{{ channel }}_marketing_consent
            {%- endfor %}
        end

),

unioned as (

    select * from channel_reasons
    union all
    select * from no_consent

),

final as (

    select
        {{ dbt.concat([
            'customer_id', "':'", 'cast(score_date as ' ~ dbt.type_string() ~ ')', "':'", 'channel', "':'", 'reason_code'
        ]) }} as suppression_id,
        customer_id,
        score_date,
        channel,
        reason_code,
        suppressed_until
    from unioned

)

select * from final
