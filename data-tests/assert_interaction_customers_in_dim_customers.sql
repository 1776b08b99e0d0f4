-- Every interaction tied to a customer is tied to a customer of dim_customers.
with

interactions as (

    select * from {{ ref('fct_interactions') }}

),

customers as (

    select * from {{ ref('dim_customers') }}

)

select
    interactions.interaction_id,
    interactions.customer_id
from interactions
left join customers
    on interactions.customer_id = customers.customer_id
where
    interactions.customer_id is not null
    and customers.customer_id is null
