{#
    The columns of a relation except some, for carrying through columns a
    company added beyond the contract.

    get_columns_except(relation, except) returns the column names (in the
    relation's order, case-insensitive match on except). It returns [] at
    parse time and when the relation does not exist (an absent source, or an
    empty warehouse while linting).

    star_except(relation, except, relation_alias) renders them as select
    items, each followed by a comma and a new line, so it fits in the middle
    of a trailing-comma select list and renders nothing when there are no
    such columns:

        select
            customer_id,
            {{ star_except(source('crm', 'customers'), except=known) }}
            loaded_at
        from ...
#}
{% macro get_columns_except(relation, except=[]) -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- if relation is string or not empathy_relation_exists(relation) -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set excluded = except | map('lower') | list -%}
    {%- set names = [] -%}
    {%- for column in adapter.get_columns_in_relation(relation) -%}
        {%- if column.name | lower not in excluded -%}
            {%- do names.append(column.name) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(names) }}
{%- endmacro %}


{% macro star_except(relation, except=[], relation_alias=none) -%}
    {%- for name in get_columns_except(relation, except) %}
    {% if relation_alias %}{{ relation_alias }}.{% endif %}{{ adapter.quote(name) }},
    {%- endfor %}
{%- endmacro %}


{#-
    Names of the columns documented on a source (the contract's columns and
    the load metadata, not those marked meta extra), e.g. to pass as except to star_except so only the
    columns a company added remain. [] at parse time.
-#}
{% macro source_column_names(source_name, table_name) -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set names = [] -%}
    {%- for node in graph.sources.values() -%}
        {%- if node.source_name == source_name and node.name == table_name -%}
            {%- for column in node.columns.values() -%}
                {%- if not (column.meta or {}).get('extra') -%}
                    {%- do names.append(column.name) -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(names) }}
{%- endmacro %}
