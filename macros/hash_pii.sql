{#
    A keyed one-way hash of a personal-data value: HMAC-SHA256 (hex) of the
    trimmed, lower-cased text, keyed with the installation's secret salt (env
    var EMPATHY_PII_SALT), so the same e-mail address always hashes the same
    within one installation, and a list of addresses cannot be hashed to find
    customers without the salt. Empty values hash to null. Equal to
    empathy.privacy.pii_hash(value, salt).
#}
{% macro hash_pii(expr) -%}
    {{ return(adapter.dispatch('hash_pii', 'empathy')(expr)) }}
{%- endmacro %}

{#- HMAC: sha256(key xor opad || sha256(key xor ipad || value)); the pads are computed once per query. -#}
{% macro duckdb__hash_pii(expr) -%}
    sha256(
        (select {{ _hmac_pad(92) }})
        || unhex(sha256(
            (select {{ _hmac_pad(54) }})
            || encode(nullif(lower(trim(cast({{ expr }} as varchar))), ''))
        ))
    )
{%- endmacro %}

{#- The 64-byte key (the salt, or its sha256 when longer) xor one byte, as a blob. -#}
{% macro _hmac_pad(byte) -%}
    {%- set key -%}
        (case when octet_length(encode({{ empathy_pii_salt() }})) > 64
            then unhex(sha256(encode({{ empathy_pii_salt() }})))
            else encode({{ empathy_pii_salt() }}) end)
    {%- endset -%}
    unhex(list_aggregate(list_transform(range(64), i -> printf('%02x', xor(
        ('0x' || substr(rpad(hex({{ key }}), 128, '0'), 2 * i + 1, 2))::integer, {{ byte }}
    ))), 'string_agg', ''))
{%- endmacro %}

{#- Other warehouses: sha2 of the salt and the value (keyed, not HMAC); sha2 returns hex text there. -#}
{% macro default__hash_pii(expr) -%}
    sha2({{ empathy_pii_salt() }} || nullif(lower(trim(cast({{ expr }} as {{ dbt.type_string() }}))), ''), 256)
{%- endmacro %}

{#-
    The env var EMPATHY_PII_SALT as a quoted SQL string literal. `empathy run`
    / `build` set it (the public demo salt on the demo world only, see
    empathy.privacy); a build without it stops here.
-#}
{% macro empathy_pii_salt() -%}
    {%- set salt = env_var('EMPATHY_PII_SALT', '') -%}
    {%- if execute and not salt and flags.WHICH in ('build', 'run', 'seed', 'test') -%}
        {{ exceptions.raise_compiler_error(
            'env var EMPATHY_PII_SALT is not set: personal data (e-mails, author handles) is hashed with this '
            ~ 'secret salt. Set it, e.g. export EMPATHY_PII_SALT=$(openssl rand -hex 32), keep it secret and '
            ~ 'unchanged between runs; `empathy run` on the demo world sets the public demo salt itself.'
        ) }}
    {%- endif -%}
    '{{ salt | replace("'", "''") }}'
{%- endmacro %}
