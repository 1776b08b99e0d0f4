"""Text understanding: language, sentiment, emotions, intent, topic, emoji, negation and sarcasm signals."""
