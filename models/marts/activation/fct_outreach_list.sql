{{ config(meta={"status_from": ["int_consent_coverage.consent", "int_model_registry.churn"]}) }}

{#-
    Proactive outreach: one row per saveable customer on the scoring date,
    a customer scored for activation with high churn risk (band high or
    probability at least var outreach_min_churn_probability), meaningful value
    (clv at least var outreach_min_clv) and a channel a service contact may
    use (phone first, then e-mail: int_next_best_action_options). The opening
    line names the customer's actual issue from their data (the open ticket's
    topic and age, the late order and its days late, the failed payment),
    else a neutral line saying what is known. Ordered by value at risk.
    Outreach is the proactive_support experiment: a customer in its holdout
    (macro experiment_arm) is not contacted and stays off the list.
-#}

with

signals as (

    select * from {{ ref('int_customer_activation_signals') }}

),

options as (

    select * from {{ ref('int_next_best_action_options') }}

),

churn_scores as (

    select * from {{ ref('int_churn_scores') }}

),

clv as (

    select * from {{ ref('int_clv') }}

),

treatments as (

    select * from {{ ref('treatments') }}

),

-- The experiment outreach belongs to.
experiment as (

    select 'proactive_support_v' || cast(experiment_version as {{ dbt.type_string() }}) as experiment_id
    from treatments
    where treatment_id = 'proactive_support' and experiment_version is not null

),

-- The service channel a proactive contact may use, phone first.
contact_channels as (

    select
        customer_id,
        channel,
        consent_basis
    from options
    where treatment_id = 'proactive_support' and is_allowed
    qualify row_number() over (
        partition by customer_id
        order by case channel when 'phone' then 0 when 'email' then 1 else 2 end, channel
    ) = 1

),

saveable as (

    select
        signals.*,
        churn_scores.churn_probability,
        churn_scores.churn_risk_band,
        clv.clv,
        contact_channels.channel,
        contact_channels.consent_basis,
        experiment.experiment_id,
        {{ experiment_arm('experiment.experiment_id', 'signals.customer_id') }} as experiment_arm,
        case
            when signals.open_ticket_id is not null then 'open_ticket'
            when signals.late_order_id is not null then 'late_order'
            when signals.failed_payment_days_ago is not null then 'failed_payment'
            when signals.has_recent_complaint then 'recent_complaint'
            else 'none_known'
        end as known_issue
    from signals
    inner join churn_scores
        on
            signals.customer_id = churn_scores.customer_id
            and signals.score_date = churn_scores.score_date
    inner join clv
        on signals.customer_id = clv.customer_id
    inner join contact_channels
        on signals.customer_id = contact_channels.customer_id
    left join experiment
        on true
    where
        signals.is_activation_scored
        and (
            churn_scores.churn_risk_band = 'high'
            or churn_scores.churn_probability >= {{ var('outreach_min_churn_probability', 0.5) }}
        )
        and clv.clv >= {{ var('outreach_min_clv', 50) }}
        and signals.lifecycle_stage not in ('cancelled', 'lapsed')

),

contacted as (

    select * from saveable
    where coalesce(experiment_arm, 'treated') = 'treated'

),

final as (

    select
        {{ dbt.concat(['customer_id', "':'", 'cast(score_date as ' ~ dbt.type_string() ~ ')']) }} as outreach_id,
        customer_id,
        score_date,
        cast(row_number() over (
            partition by score_date order by churn_probability * clv desc, customer_id asc
        ) as {{ dbt.type_int() }}) as outreach_rank,
        channel,
        consent_basis,
        churn_probability,
        churn_risk_band,
        clv,
        cast(churn_probability * clv as {{ type_double() }}) as value_at_risk,
        known_issue,
        'churn risk ' || churn_risk_band || ' (' || cast(round(churn_probability, 3) as {{ dbt.type_string() }})
        || '), value ' || cast(round(clv, 2) as {{ dbt.type_string() }})
        || case when known_issue != 'none_known' then ', ' || replace(known_issue, '_', ' ') else '' end
            as outreach_reason,
        case known_issue
            when 'open_ticket'
                then
                    'I am getting in touch about the ' || replace(open_ticket_topic, '_', ' ') || ' request you opened '
                    || cast(open_ticket_days as {{ dbt.type_string() }})
                    || case when open_ticket_days = 1 then ' day' else ' days' end
                    || ' ago: I want to make sure we resolve it for you.'
            when 'late_order'
                then
                    'Your order ' || cast(late_order_id as {{ dbt.type_string() }})
                    || case when is_late_order_still_overdue then ' is ' else ' arrived ' end
                    || cast(late_order_days as {{ dbt.type_string() }})
                    || case when late_order_days = 1 then ' day' else ' days' end
                    || ' late, and I am sorry: I would like to put that right.'
            when 'failed_payment'
                then
                    'Your payment of ' || cast(round(failed_payment_amount, 2) as {{ dbt.type_string() }})
                    || ' ' || coalesce(upper(failed_payment_currency), '') || ' did not go through '
                    || cast(failed_payment_days_ago as {{ dbt.type_string() }})
                    || case when failed_payment_days_ago = 1 then ' day' else ' days' end
                    || ' ago: can I help you sort it out?'
            when 'recent_complaint'
                then 'You told us recently that something was not right: I would like to hear what happened and fix it.'
            else
                'You have been with us for '
                || cast(cast(floor(coalesce(tenure_days, 0) / 30.0) as {{ dbt.type_int() }}) as {{ dbt.type_string() }})
                || case when floor(coalesce(tenure_days, 0) / 30.0) = 1 then ' month' else ' months' end
                || case
                    when orders_365d > 0
                        then
                            ' and ordered ' || cast(orders_365d as {{ dbt.type_string() }})
                            || case when orders_365d = 1 then ' time' else ' times' end || ' this year'
                    else ''
                end
                || ': I would like to hear how things are going and whether we can do anything better.'
        end as opening_line,
        experiment_id,
        experiment_arm
    from contacted

)

select * from final
