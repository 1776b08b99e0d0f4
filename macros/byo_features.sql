{#
    Bring-your-own features: the columns a company sent beyond the contract
    (carried through by staging) become candidate features of the churn and
    next-action models, unless the screening int_feature_exclusions
    (audit.feature_exclusions) keeps them out: declared personal data, a rule
    of the seed `feature_exclusions` on the name, personal data by value
    (e-mails, phone numbers, names, addresses, IBANs), or a proxy of age or
    gender (empathy.predict.feature_screening).

    byo_known_columns(kind) lists the own (contract and derived) columns of
    the staging models a kind reads: 'customer' (stg_crm__customers and
    stg_crm__customer_versions) or 'subscription' (stg_commerce__subscriptions
    and stg_commerce__subscription_versions). Every other column is a
    candidate.

    byo_candidate_columns(relation, known) returns [{name, kind, dtype}] for
    the columns of `relation` not in `known`: kind 'numeric' (numbers and
    booleans) or 'categorical' (text); dates, timestamps and other types are
    skipped. [] at parse time and when the relation does not exist.

    byo_personal_columns(relation, known, byo_source) returns the extra
    columns of `relation` that must stay in staging (never in a mart): the
    candidates the screening classes as personal (a category of var
    personal_data_categories: declared personal data, identifiers, names
    matching the seed's pii or sensitive rules, e-mails / phones / names /
    addresses / IBANs by value) and every extra the screening does not judge
    (dates, timestamps and other types).

    byo_feature_columns(relation, known, prefix, byo_source) returns the
    candidates the screening keeps, with `feature` = `<prefix><name>`;
    byo_excluded_columns(relation, known, byo_source) the ones it keeps out,
    with their reason. A model calling these needs
    `-- depends_on: {{ ref('int_feature_exclusions') }}`.
#}
{% macro byo_known_columns(kind) -%}
    {%- if kind == 'customer' -%}
        {{ return([
            'customer_version_id', 'customer_id', 'version_number', 'valid_from', 'valid_to', 'created_at',
            'updated_at', 'email_hash', 'has_email', 'birth_year', 'age_band', 'gender', 'country', 'language',
            'locale', 'region', 'segment', 'company_name', 'industry', 'company_size', 'acquisition_channel',
            'loaded_at',
        ]) }}
    {%- elif kind == 'subscription' -%}
        {{ return([
            'subscription_version_id', 'subscription_id', 'version_number', 'valid_from', 'valid_to',
            'customer_id', 'plan', 'started_at', 'ended_at', 'updated_at', 'monthly_amount',
            'previous_monthly_amount', 'price_changed_at', 'last_price_change_amount', 'currency',
            'subscription_status', 'cancel_reason', 'loaded_at',
        ]) }}
    {%- endif -%}
    {{ exceptions.raise_compiler_error("byo_known_columns: kind must be 'customer' or 'subscription', not " ~ kind) }}
{%- endmacro %}


{% macro byo_candidate_columns(relation, known) -%}
    {%- set candidates = [] -%}
    {%- if execute and relation is not string and empathy_relation_exists(relation) -%}
        {%- set known_lower = known | map('lower') | list -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- set dtype = column.dtype | lower -%}
            {%- if column.name | lower not in known_lower -%}
                {%- if column.is_numeric() or column.is_float() or column.is_integer()
                    or dtype in ('boolean', 'bool') -%}
                    {%- do candidates.append({'name': column.name, 'kind': 'numeric', 'dtype': dtype}) -%}
                {%- elif column.is_string() -%}
                    {%- do candidates.append({'name': column.name, 'kind': 'categorical', 'dtype': dtype}) -%}
                {%- endif -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(candidates) }}
{%- endmacro %}


{#- {column name (lower): {decision, reason_category, reason}} of one byo_source, from int_feature_exclusions. -#}
{% macro _byo_screening(byo_source) -%}
    {%- set found = {} -%}
    {%- if execute -%}
        {%- set result = run_query(
            'select column_name, decision, reason_category, reason from ' ~ ref('int_feature_exclusions')
            ~ " where byo_source = '" ~ byo_source ~ "'"
        ) -%}
        {%- for row in result.rows -%}
            {%- do found.update({row[0] | lower: {'decision': row[1], 'category': row[2], 'reason': row[3]}}) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(found) }}
{%- endmacro %}


{% macro _byo_classify(relation, known, byo_source) -%}
    {%- set kept = [] -%}
    {%- set excluded = [] -%}
    {%- set candidates = byo_candidate_columns(relation, known) -%}
    {%- set screening = _byo_screening(byo_source) if candidates else {} -%}
    {%- for column in candidates -%}
        {%- set verdict = screening.get(column.name | lower) -%}
        {%- if verdict is none -%}
            {%- do excluded.append({'name': column.name, 'category': 'not_screened',
                'reason': 'not in int_feature_exclusions: rebuild it'}) -%}
        {%- elif verdict.decision == 'feature' -%}
            {%- do kept.append(column) -%}
        {%- else -%}
            {%- do excluded.append({'name': column.name, 'category': verdict.category, 'reason': verdict.reason}) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return({'kept': kept, 'excluded': excluded}) }}
{%- endmacro %}


{% macro byo_personal_columns(relation, known=[], byo_source='customer') -%}
    {%- set personal = [] -%}
    {%- if execute and relation is not string and empathy_relation_exists(relation) -%}
        {%- set categories = var('personal_data_categories') -%}
        {%- set judged = [] -%}
        {%- for column in _byo_classify(relation, known, byo_source).excluded -%}
            {%- if column.category in categories or column.category == 'not_screened' -%}
                {%- do personal.append(column.name) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- for column in byo_candidate_columns(relation, known) -%}
            {%- do judged.append(column.name | lower) -%}
        {%- endfor -%}
        {%- set known_lower = known | map('lower') | list -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- set name = column.name | lower -%}
            {%- if name not in known_lower and name not in judged -%}
                {%- do personal.append(column.name) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(personal) }}
{%- endmacro %}


{% macro byo_feature_columns(relation, known=[], prefix='byo__', byo_source='customer') -%}
    {%- set columns = [] -%}
    {%- for column in _byo_classify(relation, known, byo_source).kept -%}
        {%- do columns.append({
            'name': column.name, 'kind': column.kind, 'dtype': column.dtype,
            'feature': prefix ~ (column.name | lower),
        }) -%}
    {%- endfor -%}
    {{ return(columns) }}
{%- endmacro %}


{% macro byo_excluded_columns(relation, known=[], byo_source='customer') -%}
    {{ return(_byo_classify(relation, known, byo_source).excluded) }}
{%- endmacro %}


{#
    Select items for byo_feature_columns(...): numbers as double, booleans as
    0/1, text trimmed and lower-cased. Each item ends with a comma and a new
    line (fits in a trailing-comma select list; renders nothing when empty).
#}
{% macro byo_select_items(columns, relation_alias) -%}
    {%- for column in columns %}
    {{ byo_value(column, relation_alias) }} as {{ column.feature }},
    {%- endfor %}
{%- endmacro %}


{#- One candidate column as a feature value: a double for numbers and booleans (0/1), else lower-cased text. -#}
{% macro byo_value(column, relation_alias) -%}
    {%- set ref_ = relation_alias ~ '.' ~ adapter.quote(column.name) -%}
    {%- if column.kind == 'numeric' and column.dtype in ('boolean', 'bool') -%}
    cast(case when {{ ref_ }} then 1 when not {{ ref_ }} then 0 end as {{ type_double() }})
    {%- elif column.kind == 'numeric' -%}
    cast({{ ref_ }} as {{ type_double() }})
    {%- else -%}
    lower(trim(cast({{ ref_ }} as {{ dbt.type_string() }})))
    {%- endif -%}
{%- endmacro %}
