{#
    Bring-your-own features: the columns a company sent beyond the contract
    (carried through by staging) become candidate features of the churn and
    next-action models, unless their name matches a rule of the seed
    `feature_exclusions` (identifiers, personal data, sensitive attributes,
    outcome leakage).

    byo_feature_columns(relation, known) returns [{name, kind, feature}] for
    the columns of `relation` not in `known`: kind 'numeric' (numbers and
    booleans) or 'categorical' (text); dates, timestamps and other types are
    skipped. `feature` is the output name, `<prefix><name>`. [] at parse time
    and when the relation does not exist.

    byo_excluded_columns(relation, known) returns [{name, category}] for the
    columns a rule excluded (logged by the models that use them).

    A model calling these needs `-- depends_on: {{ ref('feature_exclusions') }}`.
#}
{% macro _feature_exclusion_rules() -%}
    {%- set rules = [] -%}
    {%- if execute -%}
        {%- set result = run_query(
            'select name_regex, category from ' ~ ref('feature_exclusions') ~ ' order by category, name_regex'
        ) -%}
        {%- for row in result.rows -%}
            {%- do rules.append({'regex': row[0], 'category': row[1]}) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(rules) }}
{%- endmacro %}


{% macro _byo_classify(relation, known) -%}
    {%- set kept = [] -%}
    {%- set excluded = [] -%}
    {%- if execute and relation is not string and empathy_relation_exists(relation) -%}
        {%- set rules = _feature_exclusion_rules() -%}
        {%- set known_lower = known | map('lower') | list -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- set name = column.name | lower -%}
            {%- if name not in known_lower -%}
                {%- set hit = namespace(category=none) -%}
                {%- for rule in rules -%}
                    {%- if hit.category is none and modules.re.fullmatch(rule.regex, name) -%}
                        {%- set hit.category = rule.category -%}
                    {%- endif -%}
                {%- endfor -%}
                {%- set dtype = column.dtype | lower -%}
                {%- if hit.category is not none -%}
                    {%- do excluded.append({'name': column.name, 'category': hit.category}) -%}
                {%- elif column.is_numeric() or column.is_float() or column.is_integer()
                    or dtype in ('boolean', 'bool') -%}
                    {%- do kept.append({'name': column.name, 'kind': 'numeric', 'dtype': dtype}) -%}
                {%- elif column.is_string() -%}
                    {%- do kept.append({'name': column.name, 'kind': 'categorical', 'dtype': dtype}) -%}
                {%- endif -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return({'kept': kept, 'excluded': excluded}) }}
{%- endmacro %}


{% macro byo_feature_columns(relation, known=[], prefix='byo__') -%}
    {%- set columns = [] -%}
    {%- for column in _byo_classify(relation, known).kept -%}
        {%- do columns.append({
            'name': column.name, 'kind': column.kind, 'dtype': column.dtype,
            'feature': prefix ~ (column.name | lower),
        }) -%}
    {%- endfor -%}
    {{ return(columns) }}
{%- endmacro %}


{% macro byo_excluded_columns(relation, known=[]) -%}
    {{ return(_byo_classify(relation, known).excluded) }}
{%- endmacro %}


{#
    Select items for byo_feature_columns(...): numbers as double, booleans as
    0/1, text trimmed and lower-cased. Each item ends with a comma and a new
    line (fits in a trailing-comma select list; renders nothing when empty).
#}
{% macro byo_select_items(columns, relation_alias) -%}
    {%- for column in columns %}
    {% if column.kind == 'numeric' and column.dtype in ('boolean', 'bool') -%}
    cast(
        case
            when {{ relation_alias }}.{{ adapter.quote(column.name) }} then 1
            when not {{ relation_alias }}.{{ adapter.quote(column.name) }} then 0
        end as {{ type_double() }}
    )
    {%- elif column.kind == 'numeric' -%}
    cast({{ relation_alias }}.{{ adapter.quote(column.name) }} as {{ type_double() }})
    {%- else -%}
    lower(trim(cast({{ relation_alias }}.{{ adapter.quote(column.name) }} as {{ dbt.type_string() }})))
    {%- endif %} as {{ column.feature }},
    {%- endfor %}
{%- endmacro %}
