-- dim_customers has exactly one row per staged customer.
with

staged as (

    select count(*) as staged_customers
    from {{ ref('stg_crm__customers') }}

),

dimension as (

    select count(*) as dimension_customers
    from {{ ref('dim_customers') }}

)

select
    staged.staged_customers,
    dimension.dimension_customers
from staged
cross join dimension
where staged.staged_customers != dimension.dimension_customers
