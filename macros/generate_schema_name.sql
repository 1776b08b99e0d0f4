{#
    Models, seeds and tests land in exactly the schema their folder configures
    (staging, intermediate, marts, reference), not in "<target schema>_<custom>".
    Nodes without a custom schema use the target schema.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
