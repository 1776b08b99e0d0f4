{#
    The continuous percentile `fraction` (0..1) of a numeric expression, as an
    aggregate. Ordered-set syntax on DuckDB, Postgres, Snowflake and Spark;
    BigQuery has no percentile aggregate, so it takes the approximate one.
#}
{% macro percentile_cont(expression, fraction) -%}
    {{ return(adapter.dispatch('percentile_cont', 'empathy')(expression, fraction)) }}
{%- endmacro %}

{% macro default__percentile_cont(expression, fraction) -%}
    percentile_cont({{ fraction }}) within group (order by {{ expression }})
{%- endmacro %}

{% macro bigquery__percentile_cont(expression, fraction) -%}
    approx_quantiles({{ expression }}, 1000)[offset({{ (fraction * 1000) | int }})]
{%- endmacro %}


{#
    True when a date is a snapshot date: every var('snapshot_every_days') days
    on a grid anchored at 1970-01-01. Training sets, backtests and
    int_customer_days' spine all use this grid, so incremental runs add
    snapshots without moving old ones.
#}
{% macro is_snapshot_date(date_expression) -%}
    mod({{ day_index(date_expression) }}, {{ var('snapshot_every_days', 14) }}) = 0
{%- endmacro %}
