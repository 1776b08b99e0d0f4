{#
    A source relation, or a typed empty stand-in when the table is absent.

    Every raw table but crm.customers is optional: a company that sends no
    chats has no raw.chats. Staging models read their input through this macro
    so that they still build, returning zero rows with the contract's types.

    * At parse time the macro calls source(), so lineage and source freshness
      work as usual.
    * At execution time it looks the relation up in the warehouse
      (adapter.get_relation). When it exists, the source relation is returned.
      Otherwise it renders
        (select cast(null as <type>) as <column>, ... where 1 = 0) as <alias>
      from the column data_types documented on the source (generated from the
      contract, load metadata columns included).

    Use it as the whole of a from clause, without an alias of your own:
        select * from {{ source_or_empty('support', 'chats') }}
#}
{% macro source_or_empty(source_name, table_name) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- if not execute -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- if empathy_relation_exists(relation) -%}
        {{ return(relation) }}
    {%- endif -%}
    {{ return(empty_source_relation(source_name, table_name)) }}
{%- endmacro %}


{#- True when the relation exists in the warehouse; false (never an error) when it or its schema is missing. -#}
{% macro empathy_relation_exists(relation) -%}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set found = adapter.get_relation(
        database=relation.database,
        schema=relation.schema,
        identifier=relation.identifier,
    ) -%}
    {{ return(found is not none) }}
{%- endmacro %}


{#- The typed empty relation standing in for an absent source table. -#}
{% macro empty_source_relation(source_name, table_name) -%}
    {%- set nodes = graph.sources.values()
        | selectattr('source_name', 'equalto', source_name)
        | selectattr('name', 'equalto', table_name)
        | list -%}
    {%- if nodes | length != 1 -%}
        {{ exceptions.raise_compiler_error("source_or_empty: no source " ~ source_name ~ "." ~ table_name) }}
    {%- endif -%}
    {%- set node = nodes[0] -%}
    {%- set columns = node.columns.values() | list -%}
    {%- if columns | length == 0 -%}
        {{ exceptions.raise_compiler_error(
            "source_or_empty: source " ~ source_name ~ "." ~ table_name
            ~ " documents no columns, so an empty stand-in cannot be typed"
        ) }}
    {%- endif -%}
    {%- set items = [] -%}
    {%- for column in columns -%}
        {%- if not column.data_type -%}
            {{ exceptions.raise_compiler_error(
                "source_or_empty: column " ~ column.name ~ " of source " ~ source_name ~ "." ~ table_name
                ~ " has no data_type"
            ) }}
        {%- endif -%}
        {%- do items.append(
            "cast(null as " ~ contract_data_type(column.data_type) ~ ") as " ~ adapter.quote(column.name)
        ) -%}
    {%- endfor -%}
    {{ return(adapter.dispatch('empty_relation_sql', 'empathy')(items, 'empty_' ~ source_name ~ '__' ~ table_name)) }}
{%- endmacro %}


{#- A parenthesised, aliased relation with the given select items and no rows. -#}
{% macro empty_relation_sql(select_items, alias) -%}
    {{ return(adapter.dispatch('empty_relation_sql', 'empathy')(select_items, alias)) }}
{%- endmacro %}

{% macro duckdb__empty_relation_sql(select_items, alias) -%}
    {{ return("(select " ~ select_items | join(", ") ~ " where 1 = 0) as " ~ adapter.quote(alias)) }}
{%- endmacro %}

{#- Some warehouses reject a where clause without a from clause. -#}
{% macro default__empty_relation_sql(select_items, alias) -%}
    {{ return(
        "(select " ~ select_items | join(", ")
        ~ " from (select 1 as one_row) as one_row where 1 = 0) as " ~ adapter.quote(alias)
    ) }}
{%- endmacro %}


{#
    The warehouse type for a contract data_type (the DuckDB type names used in
    the generated source files). DuckDB takes them as they are; elsewhere they
    are translated to dbt's cross-database types.
#}
{% macro contract_data_type(data_type) -%}
    {{ return(adapter.dispatch('contract_data_type', 'empathy')(data_type)) }}
{%- endmacro %}

{% macro duckdb__contract_data_type(data_type) -%}
    {{ return(data_type) }}
{%- endmacro %}

{% macro default__contract_data_type(data_type) -%}
    {%- set t = data_type | lower | trim -%}
    {%- if t in ('varchar', 'text', 'string') -%}
        {{ return(dbt.type_string()) }}
    {%- elif t == 'timestamp' -%}
        {{ return(dbt.type_timestamp()) }}
    {%- elif t in ('bigint', 'integer', 'int') -%}
        {{ return(dbt.type_bigint()) }}
    {%- elif t in ('double', 'float') -%}
        {{ return(dbt.type_float()) }}
    {%- elif t == 'boolean' -%}
        {{ return(dbt.type_boolean()) }}
    {%- else -%}
        {{ return(data_type) }}
    {%- endif -%}
{%- endmacro %}
