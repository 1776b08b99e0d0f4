{#-
    Generic test: no NaN and no infinity in any floating-point column of the
    model. `not_null` passes a NaN, and DuckDB sorts NaN above every number
    (so `score >= 9` is true for it): a value that could not be computed must
    be NULL. The columns are read from the built relation, so a new float
    column is covered without editing the test. One scan of the model; one
    row per offending column.
-#}
{% test no_nan_or_inf(model) %}

{%- set float_columns = [] -%}
{%- if execute -%}
    {%- for column in adapter.get_columns_in_relation(model) -%}
        {%- if column.is_float() -%}
            {%- do float_columns.append(column.name) -%}
        {%- endif -%}
    {%- endfor -%}
{%- endif %}

{%- if float_columns %}

with

counts as (

    select
        {%- for column in float_columns %}
        sum(
            case when {{ empathy.is_not_finite(adapter.quote(column)) }} then 1 else 0 end
        ) as n_{{ loop.index }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ model }}

),

final as (

    {%- for column in float_columns %}
    select
        '{{ column }}' as column_name,
        n_{{ loop.index }} as non_finite_values
    from counts
    where n_{{ loop.index }} > 0
    {{ "union all" if not loop.last }}
    {%- endfor %}

)

select * from final

{%- else %}

select
    cast(null as {{ dbt.type_string() }}) as column_name,
    0 as non_finite_values
where 1 = 0

{%- endif %}

{% endtest %}


{#- A floating-point value that is NaN or infinite (portable: dispatch). -#}
{% macro is_not_finite(expression) -%}
    {{ return(adapter.dispatch('is_not_finite', 'empathy')(expression)) }}
{%- endmacro %}

{% macro duckdb__is_not_finite(expression) -%}
    (isnan({{ expression }}) or isinf({{ expression }}))
{%- endmacro %}

{% macro spark__is_not_finite(expression) -%}
    (isnan({{ expression }}) or abs({{ expression }}) = double('inf'))
{%- endmacro %}

{% macro default__is_not_finite(expression) -%}
    ({{ expression }} <> {{ expression }}
    or {{ expression }} in (cast('Infinity' as double precision), cast('-Infinity' as double precision)))
{%- endmacro %}
