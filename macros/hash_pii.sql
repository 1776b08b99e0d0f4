{#
    A one-way hash of a personal-data value: sha256 (hex) of the trimmed,
    lower-cased text, so the same e-mail address always hashes the same and
    can still be matched against another system's hashes. Empty values hash
    to null. Set the var pii_salt to salt the hashes of one installation
    (matching across systems then needs the same salt).
#}
{% macro hash_pii(expr) -%}
    {{ return(adapter.dispatch('hash_pii', 'empathy')(expr)) }}
{%- endmacro %}

{% macro duckdb__hash_pii(expr) -%}
    sha256({{ empathy_pii_salt() }} || nullif(lower(trim(cast({{ expr }} as varchar))), ''))
{%- endmacro %}

{#- sha2(value, 256) returns hex text on Snowflake, Databricks, Spark and Redshift. -#}
{% macro default__hash_pii(expr) -%}
    sha2({{ empathy_pii_salt() }} || nullif(lower(trim(cast({{ expr }} as {{ dbt.type_string() }}))), ''), 256)
{%- endmacro %}

{% macro empathy_pii_salt() -%}
    '{{ var("pii_salt", "") | replace("'", "''") }}'
{%- endmacro %}
