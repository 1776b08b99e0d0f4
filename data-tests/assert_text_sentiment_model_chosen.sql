-- The sentiment of fct_text_signals comes from the model chosen for the
-- text's language: the generic one (and then equals generic_sentiment_*) or
-- the company model that fct_sentiment_model_evaluations chose for it. The
-- company models are fitted and applied per detected language.
with

text_signals as (

    select * from {{ ref('fct_text_signals') }}

),

evaluations as (

    select * from {{ ref('fct_sentiment_model_evaluations') }}

),

chosen as (

    select
        language,
        domain_model
    from evaluations
    where chosen_model = 'domain'

),

final as (

    select
        text_signals.interaction_id,
        text_signals.language,
        text_signals.sentiment_model
    from text_signals
    left join chosen
        on
            coalesce(text_signals.detected_language, text_signals.language) = chosen.language
            and text_signals.sentiment_model = chosen.domain_model
    where
        (
            text_signals.sentiment_model = 'generic'
            and (
                text_signals.sentiment_score != text_signals.generic_sentiment_score
                or text_signals.sentiment_label != text_signals.generic_sentiment_label
            )
        )
        or (text_signals.sentiment_model != 'generic' and chosen.language is null)

)

select * from final
