-- Every currency of an order or subscription has a rate in the currency_rates seed (lifetime value and the
-- subscription price feature add amounts across currencies).

with

orders as (

    select * from {{ ref('stg_commerce__orders') }}

),

subscriptions as (

    select * from {{ ref('stg_commerce__subscriptions') }}

),

rates as (

    select * from {{ ref('currency_rates') }}

),

used as (

    select distinct currency from orders
    where currency is not null
    union
    select distinct currency from subscriptions
    where currency is not null

)

select used.currency
from used
left join rates
    on used.currency = rates.currency
where rates.currency is null
