-- fct_customer_text_daily counts every text of a known customer once: per
-- customer, its texts and complaints add up to those of fct_text_signals.
with

text_signals as (

    select * from {{ ref('fct_text_signals') }}

),

daily as (

    select * from {{ ref('fct_customer_text_daily') }}

),

from_signals as (

    select
        customer_id,
        count(*) as n_texts,
        sum(case when intent = 'complaint' then 1 else 0 end) as n_complaints,
        sum(case when sentiment_label = 'negative' then 1 else 0 end) as n_negative
    from text_signals
    where customer_id is not null
    group by customer_id

),

from_daily as (

    select
        customer_id,
        sum(n_texts) as n_texts,
        sum(n_complaints) as n_complaints,
        sum(n_negative) as n_negative
    from daily
    group by customer_id

),

final as (

    select
        coalesce(from_signals.customer_id, from_daily.customer_id) as customer_id,
        from_signals.n_texts as signal_texts,
        from_daily.n_texts as daily_texts
    from from_signals
    full outer join from_daily
        on from_signals.customer_id = from_daily.customer_id
    where
        from_signals.customer_id is null
        or from_daily.customer_id is null
        or from_signals.n_texts != from_daily.n_texts
        or from_signals.n_complaints != from_daily.n_complaints
        or from_signals.n_negative != from_daily.n_negative

)

select * from final
