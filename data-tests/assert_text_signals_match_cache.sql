-- fct_text_signals reads one model version, and its generic signals are the
-- scoring cache's for that version (nothing lost or altered in the join),
-- except the texts a language prior moved into or out of English (scored
-- again with their language's heads). The detected language is the cache's.
with

text_signals as (

    select * from {{ ref('fct_text_signals') }}

),

cache as (

    select * from {{ ref('int_text_signals__scored') }}

),

versions as (

    select count(distinct model_version) as n_versions
    from text_signals

),

mismatched as (

    select
        text_signals.interaction_id,
        text_signals.text_hash,
        text_signals.model_version
    from text_signals
    left join cache
        on
            text_signals.text_hash = cache.text_hash
            and text_signals.model_version = cache.model_version
    where
        cache.text_hash is null
        or text_signals.detected_language != cache.language
        or (
            text_signals.language_source = 'detected'
            and text_signals.language != cache.language
        )
        or (
            (text_signals.language = 'en') = (cache.language = 'en')
            and (
                text_signals.generic_sentiment_score != cache.sentiment_score
                or text_signals.generic_sentiment_label != cache.sentiment_label
                or text_signals.dominant_emotion != cache.dominant_emotion
                or text_signals.intent != cache.intent
                or text_signals.topic != cache.topic
            )
        )

),

final as (

    select
        interaction_id,
        text_hash,
        model_version,
        'differs from the cache' as problem
    from mismatched
    union all
    select
        null as interaction_id,
        null as text_hash,
        null as model_version,
        'more than one model version' as problem
    from versions
    where n_versions > 1

)

select * from final
