{#
    The "now" of a build, as a UTC timestamp without time zone (the raw layer's
    convention). With the var as_of_date set (YYYY-MM-DD, for replays) it is the
    end of that day, i.e. midnight at the start of the next day; otherwise the
    current time in UTC.
#}
{% macro as_of_timestamp() -%}
    {%- set as_of_date = var('as_of_date', none) -%}
    {%- if as_of_date -%}
        {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', as_of_date | string) -%}
            {{ exceptions.raise_compiler_error("var as_of_date must be a date YYYY-MM-DD, got: " ~ as_of_date) }}
        {%- endif -%}
        {{ return(dbt.dateadd('day', 1, "cast('" ~ as_of_date ~ "' as " ~ dbt.type_timestamp() ~ ")")) }}
    {%- else -%}
        {{ return(utc_now()) }}
    {%- endif -%}
{%- endmacro %}

{% macro utc_now() -%}
    {{ return(adapter.dispatch('utc_now', 'empathy')()) }}
{%- endmacro %}

{% macro duckdb__utc_now() -%}
    cast(timezone('UTC', now()) as timestamp)
{%- endmacro %}

{% macro default__utc_now() -%}
    {{ dbt.current_timestamp_in_utc_backcompat() }}
{%- endmacro %}
