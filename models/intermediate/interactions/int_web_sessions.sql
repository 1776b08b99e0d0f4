-- A table: it aggregates the largest raw table and several models and tests read it.
{{ config(materialized='table') }}

with

web_events as (

    select * from {{ ref('stg_digital__web_events') }}

),

-- One pass over the events: rank them from the first, and from the last identified one (events with a
-- customer first). A session belongs to the customer signed in at its last identified event, so events
-- before sign-in count for that customer too.
ranked_events as (

    select
        *,
        row_number() over (
            partition by session_id
            order by occurred_at asc, web_event_id asc
        ) as event_rank,
        row_number() over (
            partition by session_id
            order by case when customer_id is null then 1 else 0 end asc, occurred_at desc, web_event_id desc
        ) as identified_rank
    from web_events

),

sessions as (

    select
        session_id,
        min(occurred_at) as started_at,
        max(occurred_at) as ended_at,
        count(*) as event_count,
        count(case when web_event_type = 'page_view' then 1 end) as page_view_count,
        count(case when web_event_type = 'search' then 1 end) as search_count,
        count(case when web_event_type = 'add_to_cart' then 1 end) as add_to_cart_count,
        count(case when web_event_type = 'checkout' then 1 end) as checkout_count,
        count(case when web_event_type = 'error' then 1 end) as error_count,
        count(case when web_event_type = 'help_center' then 1 end) as help_center_count,
        count(case when web_event_type = 'login' then 1 end) as login_count,
        count(distinct customer_id) as identified_customer_count,
        max(case when identified_rank = 1 then customer_id end) as customer_id,
        max(case when event_rank = 1 then device end) as device,
        {{ dbt.listagg('search_terms', "' | '", 'order by occurred_at asc, web_event_id asc') }}
            as search_terms
    from ranked_events
    group by session_id

),

final as (

    select
        sessions.session_id,
        sessions.customer_id,
        sessions.started_at,
        sessions.ended_at,
        {{ dbt.datediff('sessions.started_at', 'sessions.ended_at', 'second') | trim }} as duration_seconds,
        sessions.device,
        sessions.event_count,
        sessions.page_view_count,
        sessions.search_count,
        sessions.add_to_cart_count,
        sessions.checkout_count,
        sessions.error_count,
        sessions.help_center_count,
        sessions.login_count,
        sessions.identified_customer_count,
        sessions.search_terms
    from sessions

)

select * from final
