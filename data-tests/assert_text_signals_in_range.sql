-- Text signals stay in their documented ranges: scores -1 to 1,
-- probabilities and confidences 0 to 1, the seven emotions summing to 1.
with

text_signals as (

    select * from {{ ref('fct_text_signals') }}

),

checked as (

    select
        interaction_id,
        sentiment_score not between -1 and 1 as bad_sentiment_score,
        generic_sentiment_score not between -1 and 1 as bad_generic_sentiment_score,
        sentiment_intensity not between 0 and 1 as bad_sentiment_intensity,
        language_confidence not between 0 and 1 as bad_language_confidence,
        intent_confidence not between 0 and 1 as bad_intent_confidence,
        topic_confidence not between 0 and 1 as bad_topic_confidence,
        sarcasm_score not between 0 and 1 as bad_sarcasm_score,
        emoji_sentiment not between -1 and 1 as bad_emoji_sentiment,
        emoji_count < 0 as bad_emoji_count,
        abs(
            emotion_joy + emotion_sadness + emotion_anger + emotion_fear
            + emotion_surprise + emotion_disgust + emotion_neutral - 1
        ) > 0.001 as bad_emotion_sum
    from text_signals

),

final as (

    select *
    from checked
    where
        bad_sentiment_score
        or bad_generic_sentiment_score
        or bad_sentiment_intensity
        or bad_language_confidence
        or bad_intent_confidence
        or bad_topic_confidence
        or bad_sarcasm_score
        or bad_emoji_sentiment
        or bad_emoji_count
        or bad_emotion_sum

)

select * from final
