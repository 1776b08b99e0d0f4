{{ config(materialized='table') }}

{#-
    Every option the next best action weighs, with the ethics rules applied
    first: one row per customer scored for activation (int_customer_consents),
    treatment (seed treatments) and channel. An option is relevant when the
    customer's situation calls for it, and blocked by every rule it breaks:

    * sales_offer_distress / sales_offer_open_complaint: a sales offer to a
      customer in distress (Empathy Score below var distress_empathy_score) or
      with an open ticket or a recent complaint;
    * no_consent: a marketing contact without marketing consent on the
      channel, or a service contact without service consent on it (a company
      that sends no consent data: its contract basis allows service contacts);
    * unreachable: e-mail to a customer without an address;
    * suppressed: marketing on a channel int_contact_suppressions holds back
      (distress, open ticket, survey fatigue, complaint, contact-frequency cap).

    fct_next_best_actions adds the expected value and chooses (DECISIONLOG.md).
-#}
{%- set channels = ['email', 'sms', 'phone', 'in_app'] -%}
{%- set delight = var('upsell_min_empathy_score', 70) -%}

with

signals as (

    select * from {{ ref('int_customer_activation_signals') }}

),

consents as (

    select * from {{ ref('int_customer_consents') }}

),

suppressions as (

    select * from {{ ref('int_contact_suppressions') }}

),

treatments as (

    select * from {{ ref('treatments') }}

),

channels as (

    {%- for channel in channels + ['none'] %}
    select '{{ channel }}' as channel{% if not loop.last %}
    union all{% endif %}
    {%- endfor %}

),

treatment_channels as (

    select
        treatments.*,
        channels.channel
    from treatments
    inner join channels
        on '|' || treatments.channels || '|' like '%|' || channels.channel || '|%'

),

-- The reasons (other than consent) that hold marketing back on each channel.
channel_suppressions as (

    select
        customer_id,
        channel,
        {{ dbt.listagg('reason_code', "'|'", 'order by reason_code') }} as suppression_reasons
    from suppressions
    where reason_code != 'no_consent'
    group by
        customer_id,
        channel

),

options as (

    select
        signals.customer_id,
        signals.score_date,
        treatment_channels.treatment_id,
        treatment_channels.channel,
        treatment_channels.purpose,
        treatment_channels.is_sales_offer,
        treatment_channels.cost,
        treatment_channels.prior_uplift,
        signals.is_distressed,
        signals.has_open_ticket,
        signals.has_recent_complaint,
        case treatment_channels.treatment_id
            when 'apology_recovery'
                then
                    signals.is_distressed or signals.has_open_ticket or signals.has_recent_complaint
                    or signals.late_order_id is not null or signals.failed_payment_days_ago is not null
            when 'proactive_support'
                then
                    signals.has_open_ticket or coalesce(signals.is_late_order_still_overdue, false)
                    or signals.failed_payment_days_ago is not null
            when 'upsell_offer' then coalesce(signals.empathy_score >= {{ delight }}, false)
            when 'loyalty_thanks' then coalesce(signals.empathy_score >= {{ delight }}, false)
            when 'human_review' then signals.is_distressed or signals.has_recent_complaint
            else true
        end as is_relevant,
        treatment_channels.is_sales_offer and signals.is_distressed as is_blocked_distress,
        treatment_channels.is_sales_offer and (signals.has_open_ticket or signals.has_recent_complaint)
            as is_blocked_open_complaint,
        case
            when treatment_channels.channel = 'none' then false
            when treatment_channels.purpose = 'marketing'
                then not case treatment_channels.channel
                    {%- for channel in channels %}
                    when '{{ channel }}' then consents.has_{{ channel }}_marketing_consent
                    {%- endfor %}
                end
            when not consents.has_consent_data then false
            else not case treatment_channels.channel
                {%- for channel in channels %}
                when '{{ channel }}' then consents.has_{{ channel }}_service_consent
                {%- endfor %}
            end
        end as is_blocked_consent,
        treatment_channels.channel = 'email' and not signals.has_email as is_blocked_unreachable,
        treatment_channels.purpose = 'marketing' and channel_suppressions.suppression_reasons is not null
            as is_blocked_suppressed,
        channel_suppressions.suppression_reasons,
        case
            when treatment_channels.channel = 'none' then 'no_contact'
            when treatment_channels.purpose = 'marketing' then 'marketing_consent'
            when consents.has_consent_data then 'service_consent'
            else 'service_contract_no_consent_data'
        end as consent_basis
    from signals
    inner join consents
        on signals.customer_id = consents.customer_id
    cross join treatment_channels
    left join channel_suppressions
        on
            signals.customer_id = channel_suppressions.customer_id
            and treatment_channels.channel = channel_suppressions.channel
    where consents.is_activation_scored

),

final as (

    select
        {{ dbt.concat([
            'customer_id', "':'", 'cast(score_date as ' ~ dbt.type_string() ~ ')', "':'", 'treatment_id', "':'", 'channel'
        ]) }} as option_id,
        customer_id,
        score_date,
        treatment_id,
        channel,
        purpose,
        is_sales_offer,
        cost,
        prior_uplift,
        is_relevant,
        nullif(concat_ws(
            '|',
            case when is_blocked_distress then 'sales_offer_distress' end,
            case when is_blocked_open_complaint then 'sales_offer_open_complaint' end,
            case when is_blocked_consent then 'no_consent' end,
            case when is_blocked_unreachable then 'unreachable' end,
            case when is_blocked_suppressed then 'suppressed:' || suppression_reasons end
        ), '') as blocked_by,
        not(
            is_blocked_distress or is_blocked_open_complaint or is_blocked_consent
            or is_blocked_unreachable or is_blocked_suppressed
        ) as is_allowed,
        consent_basis
    from options

)

select * from final
