{#
    Named pass-through of the columns a company sent beyond the contract.

    extra_column_names(source_name, table_name) returns the extra columns of a
    raw table, in the order the gate first saw them: the registry
    audit.extra_columns (written by the gate) and the columns the source yml
    marks `meta: {extra: true}` (written by `empathy contract sources`). When
    the raw table exists, only the registered names it has; when it is absent,
    the yml's extras (the typed empty stand-in of source_or_empty has them).
    [] at parse time.

    extra_columns(source_name, table_name, relation_alias) renders them as
    select items of a staging model, each followed by a comma and a new line
    (fits before the last item of a trailing-comma select list; renders nothing
    when there are none). An extra keeps its name, unless the name is taken by
    a column the model documents in its yml (e.g. review_title, loaded_at):
    then it is carried as extra__<name>, never dropped.
#}
{% macro extra_column_names(source_name, table_name) -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set names = [] -%}
    {%- set registry = adapter.get_relation(database=target.database, schema='audit', identifier='extra_columns') -%}
    {%- if registry is not none -%}
        {%- set result = run_query(
            'select column_name from ' ~ registry ~ " where table_name = '" ~ table_name ~ "'"
            ~ ' order by first_seen_at, lower(column_name)'
        ) -%}
        {%- for row in result.rows -%}
            {%- do names.append(row[0]) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- for node in graph.sources.values() -%}
        {%- if node.source_name == source_name and node.name == table_name -%}
            {%- for column in node.columns.values() -%}
                {%- if (column.meta or {}).get('extra') and column.name | lower not in names | map('lower') | list -%}
                    {%- do names.append(column.name) -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- if not empathy_relation_exists(relation) -%}
        {{ return(names) }}
    {%- endif -%}
    {%- set present = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
    {{ return(_names_present(names, present)) }}
{%- endmacro %}


{% macro _names_present(names, present) -%}
    {%- set kept = [] -%}
    {%- for name in names -%}
        {%- if name | lower in present -%}
            {%- do kept.append(name) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(kept) }}
{%- endmacro %}


{% macro extra_columns(source_name, table_name, relation_alias=none) -%}
    {%- set taken = (model.columns or {}).keys() | map('lower') | list -%}
    {%- for name in extra_column_names(source_name, table_name) %}
    {% if relation_alias %}{{ relation_alias }}.{% endif %}{{ adapter.quote(name) }}
    {%- if name | lower in taken %} as {{ adapter.quote('extra__' ~ name) }}{% endif %},
    {%- endfor %}
{%- endmacro %}
