-- Every interaction that carries customer text has exactly one row in
-- fct_text_signals, and fct_text_signals has no other row. The interaction
-- types are restated from TEXT_INTERACTION_TYPES in
-- python/empathy/text/warehouse.py (tests/test_text_marts.py checks they agree).
with

interactions as (

    select * from {{ ref('fct_interactions') }}

),

text_signals as (

    select * from {{ ref('fct_text_signals') }}

),

expected as (

    select interaction_id
    from interactions
    where
        text is not null
        and interaction_type in (
            'ticket_opened',
            'ticket_message',
            'chat',
            'call_inbound',
            'call_outbound',
            'survey_response',
            'review',
            'social_mention',
            'subscription_cancelled'
        )

),

signal_rows as (

    select
        interaction_id,
        count(*) as n_rows
    from text_signals
    group by interaction_id

),

final as (

    select
        coalesce(expected.interaction_id, signal_rows.interaction_id) as interaction_id,
        coalesce(signal_rows.n_rows, 0) as n_signal_rows,
        expected.interaction_id is not null as is_expected
    from expected
    full outer join signal_rows
        on expected.interaction_id = signal_rows.interaction_id
    where
        expected.interaction_id is null
        or signal_rows.interaction_id is null
        or signal_rows.n_rows != 1

)

select * from final
