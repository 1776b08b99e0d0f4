-- Consent breaches in the activation marts: one row per breach (must be none).
{%- set channels = ['email', 'sms', 'phone', 'in_app'] %}

with

consents as (

    select * from {{ ref('int_customer_consents') }}

),

contacts as (

    select
        'fct_next_best_actions' as mart,
        customer_id,
        channel,
        purpose
    from {{ ref('fct_next_best_actions') }}
    union all
    select
        'fct_outreach_list' as mart,
        customer_id,
        channel,
        'service' as purpose
    from {{ ref('fct_outreach_list') }}

),

judged as (

    select
        contacts.*,
        coalesce(consents.is_activation_scored, false) as is_activation_scored,
        coalesce(consents.has_consent_data, false) as has_consent_data,
        case contacts.channel
            {%- for channel in channels %}
            when '{{ channel }}'
                then
                    case contacts.purpose
                        when 'marketing' then consents.has_{{ channel }}_marketing_consent
                        else consents.has_{{ channel }}_service_consent
                    end
            {%- endfor %}
        end as has_channel_consent
    from contacts
    left join consents
        on contacts.customer_id = consents.customer_id

),

final as (

    select
        mart,
        customer_id,
        channel,
        purpose,
        case
            when not is_activation_scored then 'not scored for activation (no profiling consent)'
            when purpose = 'marketing' and not has_consent_data then 'marketing without consent data'
            when channel != 'none' and has_consent_data and not coalesce(has_channel_consent, false)
                then 'no ' || purpose || ' consent on ' || channel
        end as breach
    from judged

)

select * from final
where breach is not null
