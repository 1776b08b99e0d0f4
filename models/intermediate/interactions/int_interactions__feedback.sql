with

survey_invitations as (

    select * from {{ ref('stg_feedback__survey_invitations') }}

),

survey_responses as (

    select * from {{ ref('stg_feedback__survey_responses') }}

),

reviews as (

    select * from {{ ref('stg_feedback__reviews') }}

),

social_mentions as (

    select * from {{ ref('stg_feedback__social_mentions') }}

),

answered_invitations as (

    select distinct invitation_id
    from survey_responses
    where invitation_id is not null

),

invited as (

    select
        'survey_invited' as interaction_type,
        survey_invitations.customer_id,
        survey_invitations.sent_at as occurred_at,
        null as ended_at,
        'survey_invitations' as source_table,
        survey_invitations.invitation_id as source_id,
        null as agent_id,
        case
            when survey_invitations.invitation_trigger = 'post_ticket' then survey_invitations.related_id
        end as ticket_id,
        case
            when survey_invitations.invitation_trigger = 'post_purchase' then survey_invitations.related_id
        end as order_id,
        survey_invitations.related_id,
        survey_invitations.invitation_channel as sub_channel,
        survey_invitations.survey_type as category,
        case
            when answered_invitations.invitation_id is not null then 'responded' else 'no_response'
        end as outcome,
        null as value,
        null as text
    from survey_invitations
    left join answered_invitations
        on survey_invitations.invitation_id = answered_invitations.invitation_id

),

responses as (

    select
        'survey_response' as interaction_type,
        survey_responses.customer_id,
        survey_responses.responded_at as occurred_at,
        null as ended_at,
        'survey_responses' as source_table,
        survey_responses.response_id as source_id,
        null as agent_id,
        case
            when survey_invitations.invitation_trigger = 'post_ticket' then survey_invitations.related_id
        end as ticket_id,
        case
            when survey_invitations.invitation_trigger = 'post_purchase' then survey_invitations.related_id
        end as order_id,
        survey_responses.invitation_id as related_id,
        survey_invitations.invitation_channel as sub_channel,
        survey_responses.survey_type as category,
        survey_responses.nps_group as outcome,
        survey_responses.score as value,
        survey_responses.comment as text
    from survey_responses
    left join survey_invitations
        on survey_responses.invitation_id = survey_invitations.invitation_id

),

-- Title and body as one text, the title first (a full stop added unless it ends in punctuation).
posted_reviews as (

    select
        'review' as interaction_type,
        customer_id,
        created_at as occurred_at,
        null as ended_at,
        'reviews' as source_table,
        review_id as source_id,
        null as agent_id,
        null as ticket_id,
        null as order_id,
        product_id as related_id,
        null as sub_channel,
        null as category,
        null as outcome,
        rating as value,
        case
            when review_title is null then review_body
            when review_body is null then review_title
            when right(review_title, 1) in ('.', '!', '?') then {{ dbt.concat(['review_title', "' '", 'review_body']) }}
            else {{ dbt.concat(['review_title', "'. '", 'review_body']) }}
        end as text
    from reviews

),

-- Mentions whose author is not linked to a customer are kept, with no customer_id.
mentions as (

    select
        'social_mention' as interaction_type,
        customer_id,
        posted_at as occurred_at,
        null as ended_at,
        'social_mentions' as source_table,
        mention_id as source_id,
        null as agent_id,
        null as ticket_id,
        null as order_id,
        null as related_id,
        platform as sub_channel,
        null as category,
        null as outcome,
        null as value,
        mention_text as text
    from social_mentions

),

unioned as (

    select * from invited
    union all
    select * from responses
    union all
    select * from posted_reviews
    union all
    select * from mentions

),

final as (

    select {{ select_interaction_columns('unioned') }}
    from unioned

)

select * from final
