{#
    One as-of date for every model (DECISIONLOG.md, "One as-of date"): the
    build judges everything at the start of the day after the latest day with
    data, never at the wall clock, so a build on old data gives the answer of
    the day its data ends. The var as_of_date (YYYY-MM-DD, for replays) sets
    that latest day instead. Models read the date from int_as_of_date.
#}

{#- The var as_of_date when set (validated as YYYY-MM-DD), else none. -#}
{% macro as_of_date_var() -%}
    {%- set as_of_date = var('as_of_date', none) -%}
    {%- if as_of_date is none or (as_of_date | string | lower) in ('', 'none', 'null') -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', as_of_date | string) -%}
        {{ exceptions.raise_compiler_error("var as_of_date must be a date YYYY-MM-DD, got: " ~ as_of_date) }}
    {%- endif -%}
    {{ return(as_of_date | string) }}
{%- endmacro %}


{#-
    The timestamps that say when something happened in the raw tables: every
    timestamp or date column the contract marks not_future (a promised
    delivery, which may lie ahead, does not count), of every raw table that
    exists. A list of (relation, column) pairs, read from the source
    definitions generated from the contract.
-#}
{% macro raw_event_time_columns() -%}
    {%- set found = [] -%}
    {%- if not execute -%}
        {{ return(found) }}
    {%- endif -%}
    {%- for node in graph.sources.values() | sort(attribute='unique_id') -%}
        {%- set relation = api.Relation.create(
            database=node.database, schema=node.schema, identifier=node.identifier
        ) -%}
        {%- if empathy_relation_exists(relation) -%}
            {%- for column in node.columns.values() | sort(attribute='name') -%}
                {%- set meta = column.meta or (column.config or {}).get('meta', {}) or {} -%}
                {%- if meta.get('not_future') and (column.data_type | lower) in ('timestamp', 'date') -%}
                    {%- do found.append((relation, column.name)) -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(found) }}
{%- endmacro %}


{#- A query with one column, latest_at: the latest event time of each raw column of raw_event_time_columns(). -#}
{% macro raw_latest_event_times() -%}
    {%- set columns = raw_event_time_columns() -%}
    {%- if columns | length == 0 -%}
        select cast(null as {{ dbt.type_timestamp() }}) as latest_at
    {%- else -%}
        {%- for relation, column in columns %}
        select cast(max({{ adapter.quote(column) }}) as {{ dbt.type_timestamp() }}) as latest_at
        from {{ relation }}
        {%- if not loop.last %}
        union all
        {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}


{#-
    The wall clock in UTC (timestamp without time zone). Never used by a model:
    only the check that no interaction lies in the future (the gate's
    not-in-the-future rule, as a data test) reads it.
-#}
{% macro utc_now() -%}
    {{ return(adapter.dispatch('utc_now', 'empathy')()) }}
{%- endmacro %}

{% macro duckdb__utc_now() -%}
    cast(timezone('UTC', now()) as timestamp)
{%- endmacro %}

{% macro default__utc_now() -%}
    {{ dbt.current_timestamp_in_utc_backcompat() }}
{%- endmacro %}


{#-
    The select that models use as their as_of import CTE: latest_data_date,
    as_of_date and as_of (see int_as_of_date). With the var as_of_date set it
    is computed from the var here, so a model built alone with the var (an
    incremental replay of int_customer_days) does not read a stale
    int_as_of_date; otherwise it reads int_as_of_date. Either way the model
    depends on int_as_of_date, and both give the same date.
-#}
{% macro as_of_dates() -%}
    {%- set as_of_relation = ref('int_as_of_date') -%}
    {%- set as_of_date = as_of_date_var() -%}
    {%- if as_of_date -%}
    select
        cast('{{ as_of_date }}' as date) as latest_data_date,
        cast({{ dbt.dateadd('day', 1, "cast('" ~ as_of_date ~ "' as date)") }} as date) as as_of_date,
        cast({{ dbt.dateadd('day', 1, "cast('" ~ as_of_date ~ "' as date)") }} as {{ dbt.type_timestamp() }}) as as_of
    {%- else -%}
    select
        latest_data_date,
        as_of_date,
        as_of
    from {{ as_of_relation }}
    {%- endif -%}
{%- endmacro %}
