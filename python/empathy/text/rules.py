"""Post-rules on the heads' probabilities, each a transparent reading of the customer-service cues.

- Sarcasm: an unambiguous marker ("thanks for nothing", "yeah right"), or praise words or a marker such as
  "just what I needed" in a failure context (something broken or still unresolved, dissatisfaction, a negative
  emoji, or a likely complaint), with no contrast word ("but")
  that would make it a mixed review instead. A sarcastic text's praise is read as a complaint: its positive
  sentiment, praise intent and joy move to negative, complaint and anger in proportion to the score.
- Negated negatives ("not unhappy", "no complaints") without any other grievance: negative sentiment moves to
  positive and neutral, negative emotions to neutral.
- Complaint reason: the topic of a complaint (delivery, quality, billing, staff, technical, other).
"""

from __future__ import annotations

import numpy as np

from empathy.text.corpora import TOPIC_TO_REASON
from empathy.text.cues import column

SARCASM_MARKED = 0.95  # an unambiguous marker, or a sarcasm marker in a failure context
SARCASM_PRAISE = 0.8  # praise words in a failure context
SARCASM_MARKER_ONLY = 0.4  # a marker alone: shown, not flagged (flagged means >= 0.5)
COMPLAINT_CONTEXT = 0.5  # P(complaint or cancellation) that makes praise words a failure context
EMOTION_CUE_BOOST = 0.5  # probability added to an emotion its feeling cue names, before renormalising
COMPLAINT_CUES = ("dissatisfaction", "anger", "disgust", "negated_positive")
GRIEVANCE_CUES = ("dissatisfaction", "anger", "disgust", "unresolved", "negated_positive", "demand")


def failure_context(cues: np.ndarray, p_problem: np.ndarray, emoji_sentiment: np.ndarray) -> np.ndarray:
    return (
        column(cues, "still_failing")
        | column(cues, "dissatisfaction")
        | column(cues, "negated_positive")
        | column(cues, "broken")
        | (emoji_sentiment < -0.2)
        | (p_problem >= COMPLAINT_CONTEXT)
    )


def sarcasm_scores(cues: np.ndarray, p_problem: np.ndarray, emoji_sentiment: np.ndarray) -> np.ndarray:
    """Rule score per text: SARCASM_MARKED, SARCASM_PRAISE, SARCASM_MARKER_ONLY or 0."""
    context = failure_context(cues, p_problem, emoji_sentiment)
    marker = column(cues, "sarcasm_marker")
    praise = column(cues, "sarcastic_praise") & ~column(cues, "contrast") & ~column(cues, "repeat_purchase")
    certain = column(cues, "sarcasm_certain")
    return np.select(
        [certain | (marker & context), praise & context, marker],
        [SARCASM_MARKED, SARCASM_PRAISE, SARCASM_MARKER_ONLY],
        0.0,
    )


def move_mass(p: np.ndarray, classes: list[str], source: str, target: str, share: np.ndarray) -> np.ndarray:
    """Move `share` (per row, 0-1) of class `source`'s probability to class `target`."""
    out = p.copy()
    i, j = classes.index(source), classes.index(target)
    moved = out[:, i] * np.clip(share, 0.0, 1.0)
    out[:, i] -= moved
    out[:, j] += moved
    return out


def flip_sarcasm(probs: dict[str, np.ndarray], classes: dict[str, list[str]], sarcasm: np.ndarray) -> None:
    """Read sarcastic praise as the complaint it is (in place)."""
    share = np.where(sarcasm >= 0.5, sarcasm, 0.0)
    probs["sentiment"] = move_mass(probs["sentiment"], classes["sentiment"], "positive", "negative", share)
    probs["intent"] = move_mass(probs["intent"], classes["intent"], "praise", "complaint", share)
    probs["emotion"] = move_mass(probs["emotion"], classes["emotion"], "joy", "anger", share)


def lift_negated_negatives(probs: dict[str, np.ndarray], classes: dict[str, list[str]], cues: np.ndarray) -> None:
    """ "Not unhappy", "no complaints": not negative when nothing else in the text complains (in place)."""
    grievance = np.zeros(len(cues), dtype=bool)
    for name in GRIEVANCE_CUES:
        grievance |= column(cues, name)
    share = (column(cues, "negated_negative") & ~grievance).astype(np.float64)
    probs["sentiment"] = move_mass(probs["sentiment"], classes["sentiment"], "negative", "positive", share * 0.5)
    probs["sentiment"] = move_mass(probs["sentiment"], classes["sentiment"], "negative", "neutral", share)
    for emotion in ("anger", "disgust", "fear", "sadness"):
        probs["emotion"] = move_mass(probs["emotion"], classes["emotion"], emotion, "neutral", share)
    probs["intent"] = move_mass(probs["intent"], classes["intent"], "complaint", "praise", share)


def settle_complaint_or_request(probs: dict[str, np.ndarray], classes: dict[str, list[str]], cues: np.ndarray) -> None:
    """Dissatisfaction voiced with no question is a complaint, not a support request or "other"; a question with
    none is a support request, not a complaint (the label definitions in data/README.md). A demand ("I expect a
    refund") or a wait alone decides neither: refunds and tracking are support requests too. In place."""
    grievance = np.zeros(len(cues), dtype=bool)
    for name in COMPLAINT_CUES:
        grievance |= column(cues, name)
    question = column(cues, "question")
    intent, names = probs["intent"], classes["intent"]
    told = (grievance & ~question) * 1.0
    probs["intent"] = move_mass(intent, names, "support_request", "complaint", told)
    probs["intent"] = move_mass(probs["intent"], names, "other", "complaint", told)
    probs["intent"] = move_mass(probs["intent"], names, "complaint", "support_request", (question & ~grievance) * 1.0)


def lift_cued_emotions(probs: dict[str, np.ndarray], classes: dict[str, list[str]], cues: np.ndarray) -> None:
    """Add EMOTION_CUE_BOOST to each negative emotion a feeling cue names, then renormalise (in place)."""
    p = probs["emotion"].copy()
    for emotion in ("anger", "disgust", "fear", "sadness"):
        p[:, classes["emotion"].index(emotion)] += EMOTION_CUE_BOOST * column(cues, emotion)
    probs["emotion"] = p / p.sum(axis=1, keepdims=True)


def complaint_reasons(intents: np.ndarray, topics: np.ndarray) -> list[str | None]:
    """The reason of each complaint (from its topic); None for every other intent."""
    return [TOPIC_TO_REASON[t] if i == "complaint" else None for i, t in zip(intents, topics, strict=True)]
