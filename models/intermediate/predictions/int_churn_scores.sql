{{
    config(
        meta={"status_from": ["int_model_registry.churn"]},
        materialized='incremental',
        unique_key='churn_score_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}

{#-
    Daily churn scores, computed in plain SQL: the current churn version of
    int_model_registry carries its LightGBM trees compiled to CASE
    expressions with its Platt calibration (empathy.predict.sql_export), and
    this model runs that expression over the scoring snapshot of
    int_customer_snapshots. The Python model trains; the warehouse scores.
    Parity with the Python scores is measured when a version is trained
    (dim_model_versions.sql_parity_max_abs_diff) and by the test suite.

    Incremental by score date: each build scores the day after the latest
    data, so the table keeps one row per customer and scoring day.
    Without a churn model yet (too little history) it is empty.
-#}
{%- set churn = {'version': none, 'sql': none} -%}
{%- if execute and empathy_relation_exists(ref('int_model_registry')) -%}
    {%- set result = run_query(
        "select model_version, scoring_sql from " ~ ref('int_model_registry')
        ~ " where model_name = 'churn' order by version_number desc limit 1"
    ) -%}
    {%- if result.rows | length > 0 -%}
        {%- do churn.update({'version': result.rows[0][0], 'sql': result.rows[0][1]}) -%}
    {%- endif -%}
{%- endif %}

-- depends_on: {{ ref('int_model_registry') }}

with

snapshots as (

    select * from {{ ref('int_customer_snapshots') }}

),

horizon as (

    select * from {{ ref('int_churn_horizon') }}

),

scoring as (

    select *
    from snapshots
    where
        is_scoring_snapshot
        and is_eligible
        {%- if churn.sql is none %}
        and 1 = 0
        {%- endif %}

),

scored as (

    select
        customer_id,
        snapshot_date as score_date,
        contract_type,
        lifecycle_stage,
        cast(
            {% if churn.sql is none -%}
            null
            {%- else -%}
            {{ churn.sql }}
            {%- endif %}
            as {{ type_double() }}
        ) as churn_probability,
        has_email = 1
        and (has_email_marketing_consent = 1 or has_sms_marketing_consent = 1)
        and coalesce(spam_complaints_90d, 0) = 0 as is_reachable,
        coalesce(email_opens_90d, 0) + coalesce(email_clicks_30d, 0) + coalesce(inbound_contacts_90d, 0)
        + coalesce(survey_responses_90d, 0) > 0 as is_responsive
    from scoring

),

ranked as (

    select
        scored.*,
        percent_rank() over (partition by scored.score_date order by scored.churn_probability) as churn_risk_percentile,
        avg(scored.churn_probability) over (partition by scored.score_date) as base_rate
    from scored

),

final as (

    select
        {{ dbt.concat(['ranked.customer_id', "':'", 'cast(ranked.score_date as ' ~ dbt.type_string() ~ ')']) }}
            as churn_score_id,
        ranked.customer_id,
        ranked.score_date,
        ranked.contract_type,
        ranked.churn_probability,
        ranked.churn_risk_percentile,
        case
            when
                ranked.churn_probability >= {{ var('churn_high_risk', 0.5) }}
                or ranked.churn_risk_percentile >= 0.9
                then 'high'
            when ranked.churn_probability >= ranked.base_rate then 'medium'
            when ranked.churn_probability is not null then 'low'
        end as churn_risk_band,
        ranked.is_reachable,
        ranked.is_responsive,
        ranked.lifecycle_stage in ('cancelled', 'lapsed') as is_cancelled,
        (
            ranked.churn_probability >= {{ var('churn_high_risk', 0.5) }}
            or ranked.churn_risk_percentile >= 0.9
        )
        and ranked.is_reachable
        and ranked.is_responsive
        and ranked.lifecycle_stage not in ('cancelled', 'lapsed') as is_saveable,
        horizon.horizon_days,
        cast({% if churn.version %}'{{ churn.version }}'{% else %}null{% endif %} as {{ dbt.type_string() }})
            as model_version
    from ranked
    cross join horizon

)

select * from final
