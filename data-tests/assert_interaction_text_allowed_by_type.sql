-- Only interaction types marked has_text in the interaction_types seed carry text.
with

interactions as (

    select * from {{ ref('fct_interactions') }}

),

interaction_types as (

    select * from {{ ref('interaction_types') }}

)

select
    interactions.interaction_id,
    interactions.interaction_type
from interactions
inner join interaction_types
    on interactions.interaction_type = interaction_types.interaction_type
where
    interactions.has_text
    and not interaction_types.has_text
