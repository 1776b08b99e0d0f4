{#
    A customer's uniform [0, 1) draw for an experiment: the first 8 hex
    digits of md5('<experiment_id>:<customer_id>') as an integer over 2^32.
    Equal to empathy.activation.experiments.bucket (a test compares them);
    the arm is 'holdout' when the draw is below var experiment_holdout_share.
#}
{% macro experiment_bucket(experiment_expr, customer_expr) -%}
    {{ return(adapter.dispatch('experiment_bucket', 'empathy')(experiment_expr, customer_expr)) }}
{%- endmacro %}

{% macro duckdb__experiment_bucket(experiment_expr, customer_expr) -%}
    (('0x' || substr(md5(cast({{ experiment_expr }} as varchar) || ':' || cast({{ customer_expr }} as varchar)), 1, 8))::ubigint
    / 4294967296.0)
{%- endmacro %}

{#- Other warehouses: md5 returns hex text; the first 8 digits read in base 16. -#}
{% macro default__experiment_bucket(experiment_expr, customer_expr) -%}
    (cast(conv(substr(md5(
        cast({{ experiment_expr }} as {{ dbt.type_string() }}) || ':' || cast({{ customer_expr }} as {{ dbt.type_string() }})
    ), 1, 8), 16, 10) as {{ dbt.type_bigint() }}) / 4294967296.0)
{%- endmacro %}

{#- The experiment arm of a customer: 'holdout' or 'treated' (null without an experiment). -#}
{% macro experiment_arm(experiment_expr, customer_expr) -%}
    case
        when {{ experiment_expr }} is null then null
        when {{ experiment_bucket(experiment_expr, customer_expr) }} < {{ var('experiment_holdout_share', 0.2) }}
            then 'holdout'
        else 'treated'
    end
{%- endmacro %}
