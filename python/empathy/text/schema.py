"""The columns every scored text gets: one contract for `empathy score-text`, `fct_text_signals` and the cache.

`TextModel.score(texts)` returns a pyarrow Table with exactly `SIGNAL_COLUMNS` (in this order); callers add
their own id columns in front. `text_hash` is the key of the scoring cache together with `model_version`.
"""

from __future__ import annotations

import pyarrow as pa

EMOTIONS = ("joy", "sadness", "anger", "fear", "surprise", "disgust", "neutral")
SENTIMENT_LABELS = ("negative", "neutral", "positive")
INTENTS = (
    "complaint",
    "support_request",
    "cancellation_intent",
    "purchase_intent",
    "feature_request",
    "praise",
    "other",
)
COMPLAINT_REASONS = ("delivery", "quality", "billing", "staff", "technical", "other")
TOPICS = ("delivery", "product_quality", "price_billing", "service_staff", "account_technical", "other")

# (name, arrow type, description)
SIGNAL_COLUMNS: list[tuple[str, pa.DataType, str]] = [
    (
        "text_hash",
        pa.string(),
        "sha256 of the normalised text (whitespace collapsed); with model_version, the cache key.",
    ),
    ("model_version", pa.string(), "Version of the text model that produced the row (hash of its artifacts)."),
    (
        "language",
        pa.string(),
        "ISO 639-1 code of the text's language; 'und' when undetermined. The detector's, or for a short text the "
        "writer's declared language or the company's main one (see language_source).",
    ),
    ("detected_language", pa.string(), "ISO 639-1 code the language detector chose; 'und' when undetermined."),
    ("language_confidence", pa.float64(), "The detector's confidence in detected_language, 0-1."),
    (
        "language_source",
        pa.string(),
        "What decided language: detected (the detector), customer (the writer's declared language) or "
        "company_mix (the company's main language).",
    ),
    ("sentiment_score", pa.float64(), "Sentiment, -1 (negative) to 1 (positive): P(positive) - P(negative)."),
    ("sentiment_label", pa.string(), "negative, neutral or positive."),
    ("sentiment_intensity", pa.float64(), "How strongly felt, 0-1, whatever the direction."),
    *[(f"emotion_{e}", pa.float64(), f"Probability of {e}, 0-1 (the seven sum to 1).") for e in EMOTIONS],
    ("dominant_emotion", pa.string(), "The most probable of the seven emotions."),
    (
        "intent",
        pa.string(),
        "complaint, support_request, cancellation_intent, purchase_intent, feature_request, praise or other.",
    ),
    ("intent_confidence", pa.float64(), "Probability of the chosen intent, 0-1."),
    (
        "complaint_reason",
        pa.string(),
        "What a complaint is about: delivery, quality, billing, staff, technical or other; null unless intent "
        "is complaint.",
    ),
    ("topic", pa.string(), "delivery, product_quality, price_billing, service_staff, account_technical or other."),
    ("topic_confidence", pa.float64(), "Probability of the chosen topic, 0-1."),
    ("emoji_count", pa.int32(), "Number of emojis and emoticons."),
    ("emoji_sentiment", pa.float64(), "Mean sentiment of the emojis, -1 to 1; null without emojis."),
    ("has_negation", pa.bool_(), "The text contains a negation (not, never, no, nunca, não, ...)."),
    (
        "sarcasm_score",
        pa.float64(),
        "Sarcasm, 0-1 (0.5 and above: sarcastic): praise words or a sarcasm marker in a complaint context "
        "(0.8; 0.95 with a marker such as 'just what I needed'); 0.4 for a marker alone.",
    ),
]

SIGNAL_SCHEMA = pa.schema([pa.field(n, t) for n, t, _ in SIGNAL_COLUMNS])
SIGNAL_NAMES = [n for n, _, _ in SIGNAL_COLUMNS]
