{{ config(meta={"status_from": [
    "int_model_registry.churn",
    "int_churn_holdout_scores.churn_holdout",
    "int_next_action_probabilities.next_action",
    "int_customer_states__scored.nps"
]}) }}

{#-
    Fairness of every score and action by customer group: one row per subject
    (score or action) x population x attribute x group x metric, on the build's
    as-of date. Groups (age band, gender where stated, country, language)
    come from dim_customers; no customer id leaves this model. A metric is
    judged when seed fairness_thresholds has a row for the sector, subject
    and metric and the group has at least var fairness_min_group_size
    customers; it breaches only beyond its threshold plus var
    fairness_noise_z standard errors (DECISIONLOG.md).
-#}
{%- set min_size = var('fairness_min_group_size', 50) -%}
{%- set z = var('fairness_noise_z', 1.96) -%}
{#- each metric and the rows it applies to (outcome metrics: labelled populations only) -#}
{%- set metrics = {
    'positive_rate': 'true',
    'disparate_impact_ratio': 'true',
    'mean_predicted': 'mean_predicted is not null',
    'false_positive_rate': "population = 'labelled'",
    'false_negative_rate': "population = 'labelled'",
    'observed_rate': "population = 'labelled'",
    'calibration_gap': "population = 'labelled'",
    'calibration_gap_vs_all': "population = 'labelled'",
} -%}

with

customers as (

    select * from {{ ref('int_customers') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

churn_scores as (

    select * from {{ ref('int_churn_scores') }}

),

churn_holdout as (

    select * from {{ ref('int_churn_holdout_scores') }}

),

states as (

    select * from {{ ref('int_customer_emotional_states') }}

),

nps as (

    select * from {{ ref('int_nps_predicted') }}

),

next_actions as (

    select * from {{ ref('int_next_actions') }}

),

thresholds as (

    select * from {{ ref('fairness_thresholds') }}
    where sector = '{{ var("sector", "retail") }}'

),

-- the customer's groups, one row per group_attribute with a known value
customer_groups as (

    select
        customers.customer_id,
        'age_band' as group_attribute,
        coalesce(
            customers.age_band,
            case
                when extract(year from as_of.as_of_date) - customers.birth_year < 18 then null
                when extract(year from as_of.as_of_date) - customers.birth_year < 25 then '18-24'
                when extract(year from as_of.as_of_date) - customers.birth_year < 35 then '25-34'
                when extract(year from as_of.as_of_date) - customers.birth_year < 45 then '35-44'
                when extract(year from as_of.as_of_date) - customers.birth_year < 55 then '45-54'
                when extract(year from as_of.as_of_date) - customers.birth_year < 65 then '55-64'
                when customers.birth_year is not null then '65+'
            end
        ) as group_value
    from customers
    cross join as_of
    union all
    select
        customer_id,
        'gender' as group_attribute,
        case when gender != 'unknown' then gender end as group_value
    from customers
    union all
    select
        customer_id,
        'country' as group_attribute,
        country as group_value
    from customers
    union all
    select
        customer_id,
        'language' as group_attribute,
        language as group_value
    from customers

),

known_groups as (

    select * from customer_groups
    where group_value is not null

),

-- one row per customer, subject and population: flagged or not, the predicted probability and what happened
churn_scored as (

    select
        customer_id,
        score_date as population_date,
        churn_risk_band = 'high' as is_flagged,
        churn_probability as predicted,
        cast(null as boolean) as is_observed
    from churn_scores
    where
        churn_risk_band is not null
        and score_date = (select max(latest.score_date) as latest_score_date from churn_scores as latest)

),

holdout_ranked as (

    select
        *,
        percent_rank() over (order by churn_probability) as risk_percentile
    from churn_holdout

),

churn_labelled as (

    select
        customer_id,
        origin_date as population_date,
        churn_probability >= {{ var('churn_high_risk', 0.5) }} or risk_percentile >= 0.9 as is_flagged,
        churn_probability as predicted,
        is_churned as is_observed
    from holdout_ranked

),

empathy_scored as (

    select
        customer_id,
        state_date as population_date,
        empathy_band = 'distressed' as is_flagged,
        cast(null as {{ type_double() }}) as predicted,
        cast(null as boolean) as is_observed
    from states
    where is_latest and empathy_band is not null

),

nps_rows as (

    select
        customer_id,
        as_of_date as population_date,
        predicted_nps_group = 'detractor' as is_flagged,
        p_detractor as predicted,
        last_actual_nps_group = 'detractor' as is_observed
    from nps
    where predicted_nps_group is not null

),

latest_actions as (

    select * from next_actions
    where score_date = (select max(latest.score_date) as latest_score_date from next_actions as latest)

),

{%- set actions = [
    ('do_not_market', 'is_do_not_market', true),
    ('reassure', 'is_reassure', false),
    ('retain', 'is_retain', false),
    ('upsell', 'is_upsell_ready', false),
    ('route_to_senior_agent', 'is_route_to_senior_agent', false),
] %}

-- flag_is_adverse: being flagged is the unfavourable outcome (the disparate impact ratio compares the unflagged)
subject_rows as (

    select
        'churn_high_risk' as subject,
        'score' as subject_kind,
        'scored' as population,
        true as flag_is_adverse,
        *
    from churn_scored
    union all
    select
        'churn_high_risk' as subject,
        'score' as subject_kind,
        'labelled' as population,
        true as flag_is_adverse,
        *
    from churn_labelled
    union all
    select
        'empathy_distressed' as subject,
        'score' as subject_kind,
        'scored' as population,
        true as flag_is_adverse,
        *
    from empathy_scored
    union all
    select
        'nps_detractor' as subject,
        'score' as subject_kind,
        'scored' as population,
        true as flag_is_adverse,
        customer_id,
        population_date,
        is_flagged,
        predicted,
        cast(null as boolean) as is_observed
    from nps_rows
    union all
    select
        'nps_detractor' as subject,
        'score' as subject_kind,
        'labelled' as population,
        true as flag_is_adverse,
        *
    from nps_rows
    where is_observed is not null
    {%- for subject, column, adverse in actions %}
    union all
    select
        '{{ subject }}' as subject,
        'action' as subject_kind,
        'scored' as population,
        {{ adverse }} as flag_is_adverse,
        customer_id,
        score_date as population_date,
        {{ column }} as is_flagged,
        cast(null as {{ type_double() }}) as predicted,
        cast(null as boolean) as is_observed
    from latest_actions
    where {{ column }} is not null
    {%- endfor %}

),

-- per subject, population, group_attribute and group: size, rates, errors and calibration
group_metrics as (

    select
        subject_rows.subject,
        subject_rows.subject_kind,
        subject_rows.population,
        subject_rows.flag_is_adverse,
        known_groups.group_attribute,
        known_groups.group_value,
        max(subject_rows.population_date) as population_date,
        count(*) as group_size,
        avg(case when subject_rows.is_flagged then 1.0 else 0.0 end) as positive_rate,
        sum(case when subject_rows.is_flagged and not subject_rows.is_observed then 1.0 else 0.0 end)
        / nullif(sum(case when not subject_rows.is_observed then 1 else 0 end), 0) as false_positive_rate,
        sum(case when not subject_rows.is_flagged and subject_rows.is_observed then 1.0 else 0.0 end)
        / nullif(sum(case when subject_rows.is_observed then 1 else 0 end), 0) as false_negative_rate,
        avg(subject_rows.predicted) as mean_predicted,
        avg(case when subject_rows.is_observed then 1.0 when not subject_rows.is_observed then 0.0 end)
            as observed_rate
    from subject_rows
    inner join known_groups
        on subject_rows.customer_id = known_groups.customer_id
    group by 1, 2, 3, 4, 5, 6

),

-- the favourable rate (not flagged for an adverse flag) and the best-served judgeable group's rate
-- everyone's calibration gap per subject and population (customers without a known group too)
overall as (

    select
        subject,
        population,
        avg(predicted)
        - avg(case when is_observed then 1.0 when not is_observed then 0.0 end) as overall_calibration_gap
    from subject_rows
    group by 1, 2

),

favoured as (

    select
        group_metrics.*,
        group_metrics.mean_predicted - group_metrics.observed_rate as calibration_gap,
        group_metrics.mean_predicted - group_metrics.observed_rate - overall.overall_calibration_gap
            as calibration_gap_vs_all,
        case
            when group_metrics.flag_is_adverse then 1 - group_metrics.positive_rate else group_metrics.positive_rate
        end as favourable_rate,
        max(
            case
                when group_metrics.group_size >= {{ min_size }}
                    then
                        case
                            when group_metrics.flag_is_adverse
                                then 1 - group_metrics.positive_rate
                            else group_metrics.positive_rate
                        end
            end
        ) over (
            partition by group_metrics.subject, group_metrics.population, group_metrics.group_attribute
        ) as favoured_rate
    from group_metrics
    inner join overall
        on
            group_metrics.subject = overall.subject
            and group_metrics.population = overall.population

),

with_ratio as (

    select
        *,
        favourable_rate / nullif(favoured_rate, 0) as disparate_impact_ratio,
        -- standard error of a group's observed rate if the model were calibrated (its mean prediction)
        sqrt(mean_predicted * (1 - mean_predicted) / group_size) as calibration_margin
    from favoured

),

long_metrics as (

    {%- for metric, applies in metrics.items() %}
    select
        subject,
        subject_kind,
        population,
        population_date,
        group_attribute,
        group_value,
        group_size,
        favoured_rate,
        '{{ metric }}' as metric,
        cast({{ metric }} as {{ type_double() }}) as metric_value,
        cast(
            {%- if metric.startswith('calibration_gap') %} {{ z }} * calibration_margin
            {%- else %} null
            {%- endif %} as {{ type_double() }}
        ) as noise_margin
    from with_ratio
    where {{ applies }}
    {{ "union all" if not loop.last }}
    {%- endfor %}

),

-- the disparate impact margin: the standard error of the group's rate if it were exactly at the bound
-- (threshold x the favoured rate), so that a rare action's zero in a small group is not a breach
judged as (

    select
        long_metrics.subject,
        long_metrics.subject_kind,
        long_metrics.population,
        long_metrics.population_date,
        long_metrics.group_attribute,
        long_metrics.group_value,
        long_metrics.group_size,
        long_metrics.favoured_rate,
        long_metrics.metric,
        long_metrics.metric_value,
        cast(
            case
                when long_metrics.metric = 'disparate_impact_ratio' and thresholds.bound = 'min'
                    then {{ z }} * sqrt(
                        greatest(
                            0,
                            thresholds.threshold * long_metrics.favoured_rate
                            * (1 - thresholds.threshold * long_metrics.favoured_rate)
                        ) / long_metrics.group_size
                    ) / nullif(long_metrics.favoured_rate, 0)
                else long_metrics.noise_margin
            end as {{ type_double() }}
        ) as noise_margin,
        thresholds.bound as threshold_bound,
        thresholds.threshold,
        long_metrics.group_size >= {{ min_size }}
        and thresholds.threshold is not null
        and long_metrics.metric_value is not null as is_judged,
        case
            when thresholds.threshold is null
                then 'reported, not judged: no threshold for this metric in sector {{ var("sector", "retail") }}'
            when long_metrics.group_size < {{ min_size }}
                then 'reported, not judged: group smaller than {{ min_size }} customers (var fairness_min_group_size)'
            when long_metrics.metric_value is null
                then 'not computable: no customer with the outcome (or without it) in the group'
            else 'judged'
        end as judgement
    from long_metrics
    left join thresholds
        on
            long_metrics.subject = thresholds.subject
            and long_metrics.metric = thresholds.metric

),

passed as (

    select
        *,
        case
            when not is_judged then null
            when threshold_bound = 'min' then metric_value + coalesce(noise_margin, 0) >= threshold
            when threshold_bound = 'max_abs' then abs(metric_value) - coalesce(noise_margin, 0) <= threshold
        end as is_passed
    from judged

),

final as (

    select
        {{ dbt.concat([
            'subject', "':'", 'population', "':'", 'group_attribute', "':'", 'group_value', "':'", 'metric'
        ]) }} as fairness_audit_id,
        (select as_of.as_of_date from as_of) as as_of_date,
        cast('{{ var("sector", "retail") }}' as {{ dbt.type_string() }}) as sector,
        subject,
        subject_kind,
        population,
        population_date,
        group_attribute,
        group_value,
        group_size,
        metric,
        metric_value,
        favoured_rate,
        noise_margin,
        threshold_bound,
        threshold,
        cast({{ min_size }} as {{ dbt.type_int() }}) as min_group_size,
        is_judged,
        judgement,
        is_passed,
        case
            when is_passed = false
                then {{ dbt.concat([
                    'metric', "' of '", 'subject', "' ('", 'population', "') for '", 'group_attribute', "' = '",
                    'group_value', "': '", 'cast(round(metric_value, 3) as ' ~ dbt.type_string() ~ ')',
                    "case when threshold_bound = 'min' then ', needs at least ' else ', needs within +/- ' end",
                    'cast(threshold as ' ~ dbt.type_string() ~ ')', "' (group of '",
                    'cast(group_size as ' ~ dbt.type_string() ~ ')', "' customers, sampling margin '",
                    'cast(round(noise_margin, 3) as ' ~ dbt.type_string() ~ ')', "')'",
                ]) }}
        end as breach
    from passed

)

select * from final
