{#
    The columns every intermediate interaction model returns, in order, with
    their types (contract type names). int_interactions unions these models
    and adds channel, direction and has_text from the interaction_types seed.
#}
{% macro interaction_columns() -%}
    {{ return([
        ('interaction_id', 'varchar'),
        ('interaction_type', 'varchar'),
        ('customer_id', 'varchar'),
        ('occurred_at', 'timestamp'),
        ('ended_at', 'timestamp'),
        ('source_table', 'varchar'),
        ('source_id', 'varchar'),
        ('agent_id', 'varchar'),
        ('ticket_id', 'varchar'),
        ('order_id', 'varchar'),
        ('related_id', 'varchar'),
        ('sub_channel', 'varchar'),
        ('category', 'varchar'),
        ('outcome', 'varchar'),
        ('value', 'double'),
        ('text', 'varchar'),
    ]) }}
{%- endmacro %}


{#-
    The interaction columns of a relation (or CTE) that has all of them but
    interaction_id, cast to their types, as a select list without a trailing
    comma: the last step of each intermediate interaction model, so that the
    branches of int_interactions line up. interaction_id is derived here as
    '<interaction_type>:<source_id>', unique across channels.
-#}
{% macro select_interaction_columns(relation_alias) -%}
    {%- for name, data_type in interaction_columns() %}
        {%- if name == 'interaction_id' %}
        cast({{ dbt.concat([relation_alias ~ '.interaction_type', "':'", relation_alias ~ '.source_id']) }}
            as {{ contract_data_type(data_type) }}) as interaction_id
        {%- else %}
        cast({{ relation_alias }}.{{ name }} as {{ contract_data_type(data_type) }}) as {{ name }}
        {%- endif %}
        {%- if not loop.last %},{% endif %}
    {%- endfor %}
{%- endmacro %}
