{{ config(materialized='table') }}

{#- One model per group of channels; each returns the columns of interaction_columns(). -#}
{%- set interaction_models = [
    'int_interactions__orders',
    'int_interactions__billing',
    'int_interactions__support',
    'int_interactions__email',
    'int_interactions__web',
    'int_interactions__feedback',
] -%}
{%- set interaction_column_names = interaction_columns() | map(attribute=0) | list -%}

with

interaction_types as (

    select * from {{ ref('interaction_types') }}

),
{% for model_name in interaction_models %}
{{ model_name }} as (

    select * from {{ ref(model_name) }}

),
{% endfor %}
unioned as (
    {% for model_name in interaction_models %}
    select {{ interaction_column_names | join(', ') }}
    from {{ model_name }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

final as (

    select
        unioned.interaction_id,
        unioned.customer_id,
        unioned.interaction_type,
        interaction_types.channel,
        interaction_types.direction,
        unioned.occurred_at,
        unioned.ended_at,
        unioned.sub_channel,
        unioned.category,
        unioned.outcome,
        unioned.value,
        unioned.text,
        unioned.text is not null as has_text,
        unioned.agent_id,
        unioned.ticket_id,
        unioned.order_id,
        unioned.related_id,
        unioned.source_table,
        unioned.source_id
    from unioned
    left join interaction_types
        on unioned.interaction_type = interaction_types.interaction_type

)

select * from final
