{{ config(meta={"status_from": ["int_consent_coverage.consent", "int_model_registry.churn"]}) }}

{#-
    The next best action of every customer scored for activation on the
    scoring date: one row per customer and day. The ethics rules came first
    (int_next_best_action_options: no sales offer in distress or with an open
    complaint, consent by channel and purpose, suppressions and contact caps);
    among the relevant options they allow, the highest expected value wins:
    churn probability x value (clv) x uplift - cost, the uplift being the
    treatment's declared prior (seed treatments) until a holdout measures it.
    Ties go to the treatment id, then the channel. The alternative replaced is
    the best relevant option the rules removed whose expected value beat the
    choice, with the rules that removed it.

    Every treatment but hold_marketing is an experiment (seed treatments,
    experiment_version): a customer whose hash of experiment and customer id
    falls below var experiment_holdout_share is in its holdout, and the
    action is withheld (is_withheld, reason experiment_holdout: nothing is
    sent, the row stays so the holdout can be measured).

    Churn scores and value live only in their marts (fct_churn_scores, fct_clv),
    read here as fct_next_actions reads them (DECISIONLOG.md).
-#}

with

options as (

    select * from {{ ref('int_next_best_action_options') }}

),

signals as (

    select * from {{ ref('int_customer_activation_signals') }}

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

-- Each option with its expected value; an upsell also needs low churn risk.
valued as (

    select
        options.*,
        churn_scores.churn_probability,
        churn_scores.churn_risk_band,
        churn_scores.model_version,
        clv.clv,
        cast(
            coalesce(churn_scores.churn_probability, 0) * coalesce(clv.clv, 0) * options.prior_uplift - options.cost
            as {{ type_double() }}
        ) as expected_value,
        options.is_relevant
        and (options.treatment_id != 'upsell_offer' or coalesce(churn_scores.churn_risk_band, 'none') = 'low')
            as is_candidate
    from options
    left join churn_scores
        on
            options.customer_id = churn_scores.customer_id
            and options.score_date = churn_scores.score_date
    left join clv
        on options.customer_id = clv.customer_id

),

chosen as (

    select *
    from valued
    where is_candidate and is_allowed
    qualify row_number() over (
        partition by customer_id, score_date
        order by expected_value desc, treatment_id asc, channel asc
    ) = 1

),

removed as (

    select *
    from valued
    where is_candidate and not is_allowed
    qualify row_number() over (
        partition by customer_id, score_date
        order by expected_value desc, treatment_id asc, channel asc
    ) = 1

),

decided as (

    select
        chosen.*,
        case when removed.expected_value > chosen.expected_value then removed.treatment_id end
            as alternative_treatment_id,
        case when removed.expected_value > chosen.expected_value then removed.channel end as alternative_channel,
        case when removed.expected_value > chosen.expected_value then removed.expected_value end
            as alternative_expected_value,
        case when removed.expected_value > chosen.expected_value then removed.blocked_by end
            as alternative_blocked_by
    from chosen
    left join removed
        on
            chosen.customer_id = removed.customer_id
            and chosen.score_date = removed.score_date

),

-- Each decision's experiment and arm (macro experiment_arm: the same hash the demo world uses).
assigned as (

    select
        decided.*,
        case
            when treatments.experiment_version is not null
                then decided.treatment_id || '_v' || cast(treatments.experiment_version as {{ dbt.type_string() }})
        end as experiment_id
    from decided
    inner join treatments
        on decided.treatment_id = treatments.treatment_id

),

armed as (

    select
        assigned.*,
        {{ experiment_arm('assigned.experiment_id', 'assigned.customer_id') }} as experiment_arm
    from assigned

),

final as (

    select
        {{ dbt.concat(['decided.customer_id', "':'", 'cast(decided.score_date as ' ~ dbt.type_string() ~ ')']) }}
            as next_best_action_id,
        decided.customer_id,
        decided.score_date,
        decided.treatment_id,
        treatments.name as treatment_name,
        decided.channel,
        decided.purpose,
        decided.is_sales_offer,
        decided.consent_basis,
        decided.churn_probability,
        decided.churn_risk_band,
        decided.clv,
        decided.prior_uplift as uplift,
        'prior' as uplift_source,
        decided.cost,
        decided.expected_value,
        nullif(concat_ws(
            '|',
            case when signals.is_distressed then 'distress' end,
            case when signals.has_open_ticket then 'open_ticket' end,
            case when signals.has_recent_complaint then 'recent_complaint' end,
            case when signals.late_order_id is not null then 'late_order' end,
            case when signals.failed_payment_days_ago is not null then 'failed_payment' end,
            case when signals.is_survey_fatigued then 'survey_fatigue' end,
            case when signals.is_over_contacted then 'over_contact' end,
            case when decided.churn_risk_band = 'high' then 'churn_high' end,
            case when decided.churn_probability is null then 'no_churn_score' end,
            case when not signals.has_consent_data then 'service_only_no_consent_data' end,
            case when decided.prior_uplift > 0 then 'uplift_prior_not_measured' end,
            case when decided.experiment_arm = 'holdout' then 'experiment_holdout' end
        ), '') as reason_codes,
        treatments.name || case when decided.channel != 'none' then ' by ' || decided.channel else '' end
        || ': expected value ' || cast(round(decided.expected_value, 2) as {{ dbt.type_string() }})
        || case
            when decided.prior_uplift > 0
                then
                    ' = churn ' || cast(round(coalesce(decided.churn_probability, 0), 3) as {{ dbt.type_string() }})
                    || ' x value ' || cast(round(coalesce(decided.clv, 0), 2) as {{ dbt.type_string() }})
                    || ' x uplift ' || cast(decided.prior_uplift as {{ dbt.type_string() }})
                    || ' (a declared prior, not yet measured) - cost '
                    || cast(decided.cost as {{ dbt.type_string() }})
            else ' (nothing else has a positive expected value the rules allow)'
        end
        || case
            when decided.alternative_treatment_id is not null
                then
                    '; replaces ' || decided.alternative_treatment_id || ' by ' || decided.alternative_channel
                    || ' (expected value '
                    || cast(round(decided.alternative_expected_value, 2) as {{ dbt.type_string() }})
                    || '), removed by ' || decided.alternative_blocked_by
            else ''
        end
        || case
            when decided.experiment_arm = 'holdout'
                then '; withheld: the customer is in the holdout of experiment ' || decided.experiment_id
            else ''
        end as decision_reason,
        decided.alternative_treatment_id,
        decided.alternative_channel,
        decided.alternative_expected_value,
        decided.alternative_blocked_by,
        decided.experiment_id,
        decided.experiment_arm,
        coalesce(decided.experiment_arm = 'holdout', false) as is_withheld,
        decided.model_version
    from armed as decided
    inner join treatments
        on decided.treatment_id = treatments.treatment_id
    inner join signals
        on decided.customer_id = signals.customer_id

)

select * from final
