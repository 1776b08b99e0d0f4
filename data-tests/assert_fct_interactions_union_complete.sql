-- fct_interactions has exactly the rows of its inputs: nothing lost or
-- duplicated in the union or the join to the interaction_types seed.
{%- set interaction_models = [
    'int_interactions__orders',
    'int_interactions__billing',
    'int_interactions__support',
    'int_interactions__email',
    'int_interactions__web',
    'int_interactions__feedback',
] %}

with

input_counts as (
    {% for model_name in interaction_models %}
    select count(*) as input_rows from {{ ref(model_name) }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

expected as (

    select sum(input_rows) as expected_rows
    from input_counts

),

actual as (

    select count(*) as actual_rows
    from {{ ref('fct_interactions') }}

)

select
    expected.expected_rows,
    actual.actual_rows
from expected
cross join actual
where expected.expected_rows != actual.actual_rows
