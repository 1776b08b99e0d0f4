{#-
    The values of every bring-your-own candidate column (an extra column of
    customers or subscriptions, see byo_candidate_columns), in long form, for
    a deterministic sample of customers (var feature_screening_sample_customers,
    by the hash of the customer id): one row per customer (or subscription)
    and column. int_feature_exclusions reads it to judge each column by its
    values and its association with age and gender.
-#}
{%- set customer_candidates = byo_candidate_columns(ref('stg_crm__customers'), byo_known_columns('customer')) -%}
{%- set subscription_candidates = byo_candidate_columns(
    ref('stg_commerce__subscriptions'), byo_known_columns('subscription')
) -%}
{%- set parts = [] -%}
{%- for column in customer_candidates -%}
    {%- do parts.append(('customer', 'customers', column)) -%}
{%- endfor -%}
{%- for column in subscription_candidates -%}
    {%- do parts.append(('subscription', 'subscriptions', column)) -%}
{%- endfor -%}

with

customers as (

    select * from {{ ref('stg_crm__customers') }}

),

{#- read only when subscriptions have candidate columns -#}
{%- if subscription_candidates %}

subscriptions as (

    select * from {{ ref('stg_commerce__subscriptions') }}

),
{%- else %}
-- depends_on: {{ ref('stg_commerce__subscriptions') }}
{%- endif %}

-- the customers whose values are screened
sampled_customers as (

    select customer_id
    from customers
    order by {{ dbt.hash('customer_id') }}, customer_id
    limit {{ var('feature_screening_sample_customers') }}

),

final as (

    {% for byo_source, cte, column in parts %}
    select
        '{{ byo_source }}' as byo_source,
        '{{ column.name | replace("'", "''") }}' as column_name,
        '{{ column.kind }}' as column_kind,
        {{ cte }}.customer_id,
        {%- if column.kind == 'categorical' %}
        nullif(trim(cast({{ cte }}.{{ adapter.quote(column.name) }} as {{ dbt.type_string() }})), '') as value_text,
        cast(null as {{ type_double() }}) as value_number
        {%- else %}
        cast(null as {{ dbt.type_string() }}) as value_text,
        {{ byo_value(column, cte) }} as value_number
        {%- endif %}
    from {{ cte }}
    inner join sampled_customers
        on {{ cte }}.customer_id = sampled_customers.customer_id
    {% if not loop.last %}union all{% endif %}
    {% else %}
    select
        cast(null as {{ dbt.type_string() }}) as byo_source,
        cast(null as {{ dbt.type_string() }}) as column_name,
        cast(null as {{ dbt.type_string() }}) as column_kind,
        cast(null as {{ dbt.type_string() }}) as customer_id,
        cast(null as {{ dbt.type_string() }}) as value_text,
        cast(null as {{ type_double() }}) as value_number
    from sampled_customers
    where 1 = 0
    {% endfor %}

)

select * from final
