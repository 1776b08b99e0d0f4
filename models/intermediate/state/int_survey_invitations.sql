{#-
    One row per survey invitation with whether and how the customer answered:
    the response-propensity model's training set (who answers is not random,
    so answers are reweighted by the inverse of the modelled propensity).
-#}

with

invitations as (

    select * from {{ ref('stg_feedback__survey_invitations') }}

),

responses as (

    select * from {{ ref('stg_feedback__survey_responses') }}

),

first_responses as (

    select
        invitation_id,
        min(responded_at) as responded_at,
        avg(score * 1.0) as score
    from responses
    where invitation_id is not null
    group by invitation_id

),

final as (

    select
        invitations.invitation_id,
        invitations.customer_id,
        invitations.survey_type,
        invitations.invitation_channel,
        invitations.invitation_trigger,
        invitations.sent_at,
        cast(invitations.sent_at as date) as invited_date,
        cast({{ dbt.dateadd('day', -1, 'cast(invitations.sent_at as date)') }} as date) as feature_date,
        first_responses.responded_at,
        first_responses.responded_at is not null as responded,
        first_responses.score
    from invitations
    left join first_responses
        on invitations.invitation_id = first_responses.invitation_id
    where invitations.customer_id is not null

)

select * from final
