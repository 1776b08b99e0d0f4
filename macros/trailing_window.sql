{#
    The window clause of a per-customer trailing window of `days` days ending
    on the row's day (inclusive), over an integer day number column
    (`day_index`), so that sparse rows (not every day has one) still count
    calendar days. Integer range frames run on DuckDB, Postgres, Spark,
    BigQuery and Snowflake alike.
#}
{% macro trailing_window(days, partition_by='customer_id', order_by='day_index') -%}
    over (
        partition by {{ partition_by }}
        order by {{ order_by }}
        range between {{ days - 1 }} preceding and current row
    )
{%- endmacro %}


{#
    Whole days since the Unix epoch of a date expression: the integer day
    number that trailing_window() orders by.
#}
{% macro day_index(date_expression) -%}
    {{ dbt.datediff("cast('1970-01-01' as date)", date_expression, 'day') }}
{%- endmacro %}


{#- An 8-byte floating-point type (dbt.type_float() is 4 bytes on some warehouses). -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'empathy')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double precision
{%- endmacro %}

{% macro duckdb__type_double() -%}
    double
{%- endmacro %}

{% macro bigquery__type_double() -%}
    float64
{%- endmacro %}

{% macro spark__type_double() -%}
    double
{%- endmacro %}
