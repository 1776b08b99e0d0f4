"""Customer-service cues, the post-rules on the heads' probabilities, the real-data readers' helpers and the
demo-truth figures: pure functions, no trained model needed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from empathy.text import corpora, rules
from empathy.text.cues import column, cue_matrix, cue_names
from empathy.text.truth_eval import recall_precision, truth_figures, truth_texts

SENT = ["negative", "neutral", "positive"]
EMO = ["anger", "disgust", "fear", "joy", "neutral", "sadness", "surprise"]
INTENT = [
    "cancellation_intent",
    "complaint",
    "feature_request",
    "other",
    "praise",
    "purchase_intent",
    "support_request",
]
CLASSES = {"sentiment": SENT, "emotion": EMO, "intent": INTENT}


def cues_of(text: str) -> set[str]:
    row = cue_matrix([text])[0]
    return {name for name, on in zip(cue_names(), row, strict=True) if on}


@pytest.mark.parametrize(
    ("text", "present", "absent"),
    [
        pytest.param(
            "I'm not unhappy with the product", {"negated_negative"}, {"dissatisfaction", "sadness"}, id="not-unhappy"
        ),
        pytest.param(
            "not happy at all, this is unacceptable", {"negated_positive", "anger"}, {"praise_words"}, id="not-happy"
        ),
        pytest.param(
            "Oh great, another delay. Just what I needed.", {"sarcasm_marker", "unresolved"}, set(), id="sarcasm"
        ),
        pytest.param("I'm worried my card was charged twice", {"fear", "problem_billing"}, {"anger"}, id="worried"),
        pytest.param("Third time I've asked about this", {"anger", "unresolved"}, set(), id="third-time"),
        pytest.param("Sigo esperando mi pedido, es inaceptable", {"unresolved", "anger"}, set(), id="es"),
    ],
)
def test_cues_read_customer_phrases(text, present, absent):
    found = cues_of(text)
    assert present <= found
    assert not (absent & found)


def test_cue_matrix_is_empty_for_no_texts():
    assert cue_matrix([]).shape == (0, len(cue_names()))


def rule_inputs(*texts: str) -> np.ndarray:
    return cue_matrix(list(texts))


def test_sarcasm_needs_praise_in_a_failure_context():
    cues = rule_inputs(
        "Oh great, another delay. Just what I needed.",  # marker + unresolved
        "Great, still waiting for my refund",  # praise + unresolved
        "Great product, arrived early, thanks",  # praise, no failure
        "Love the dress but it is still too small",  # mixed review: contrast word
        "Just what I needed for the holidays",  # marker alone
    )
    scores = rules.sarcasm_scores(cues, np.zeros(5), np.zeros(5))
    assert scores.tolist() == [rules.SARCASM_MARKED, rules.SARCASM_PRAISE, 0.0, 0.0, rules.SARCASM_MARKER_ONLY]


def test_unambiguous_sarcasm_needs_no_context_and_a_repeat_purchase_is_not_sarcasm():
    cues = rule_inputs(
        "Thanks a lot for nothing.",
        "Excellent blender, exactly as described. Will buy again.",
        "Amazing, it arrived broken",
    )
    scores = rules.sarcasm_scores(cues, np.zeros(3), np.zeros(3))
    assert scores.tolist() == [rules.SARCASM_MARKED, 0.0, rules.SARCASM_PRAISE]


def test_sarcasm_reads_a_likely_complaint_or_a_negative_emoji_as_context():
    cues = rule_inputs("Wonderful service", "Wonderful service", "Wonderful service")
    scores = rules.sarcasm_scores(cues, np.array([0.0, 0.9, 0.0]), np.array([0.0, 0.0, -0.6]))
    assert scores.tolist() == [0.0, rules.SARCASM_PRAISE, rules.SARCASM_PRAISE]


def uniform(n: int, k: int) -> np.ndarray:
    return np.full((n, k), 1.0 / k)


def test_flip_sarcasm_moves_praise_to_complaint_only_when_flagged():
    probs = {"sentiment": uniform(2, 3), "emotion": uniform(2, 7), "intent": uniform(2, 7)}
    rules.flip_sarcasm(probs, CLASSES, np.array([0.8, 0.4]))
    assert probs["sentiment"][0, SENT.index("positive")] == pytest.approx(0.2 / 3)
    assert probs["sentiment"][0, SENT.index("negative")] == pytest.approx(1.8 / 3)
    assert probs["intent"][0, INTENT.index("complaint")] > probs["intent"][0, INTENT.index("praise")]
    assert probs["emotion"][0, EMO.index("anger")] > probs["emotion"][0, EMO.index("joy")]
    np.testing.assert_allclose(probs["sentiment"][1], uniform(1, 3)[0])
    for p in probs.values():
        np.testing.assert_allclose(p.sum(axis=1), 1.0)


def test_negated_negative_is_not_negative_unless_something_else_complains():
    cues = rule_inputs("I'm not unhappy with the product", "Not bad, but this is unacceptable")
    negative = np.array([[0.8, 0.1, 0.1], [0.8, 0.1, 0.1]])
    probs = {"sentiment": negative.copy(), "emotion": uniform(2, 7), "intent": uniform(2, 7)}
    rules.lift_negated_negatives(probs, CLASSES, cues)
    assert probs["sentiment"][0].argmax() != SENT.index("negative")
    assert probs["emotion"][0, EMO.index("neutral")] > 0.5
    np.testing.assert_allclose(probs["sentiment"][1], negative[1])


def test_complaint_reason_only_for_complaints():
    got = rules.complaint_reasons(
        np.array(["complaint", "complaint", "praise"]), np.array(["delivery", "price_billing", "delivery"])
    )
    assert got == ["delivery", "billing", None]


def test_column_reads_one_cue():
    cues = rule_inputs("where is my parcel?", "thanks")
    assert column(cues, "question").tolist() == [True, False]


# -- real-data helpers ---------------------------------------------------------------------------------------------
def test_snippet_keeps_opening_sentences_and_drops_masks():
    text = "On XX/XX/XXXX I was charged {$25.00} twice. " + "More words here. " * 40
    out = corpora.snippet(text, words=10)
    assert out.startswith("On I was charged twice.")
    assert "XX" not in out and "{$" not in out
    assert len(out.split()) <= 20


def test_holdout_split_is_stable_and_about_a_fifth():
    keys = [f"row {i}" for i in range(5000)]
    share = np.mean([corpora.in_holdout(k) for k in keys])
    assert 0.17 < share < 0.23
    assert [corpora.in_holdout(k) for k in keys[:50]] == [corpora.in_holdout(k) for k in keys[:50]]


@pytest.mark.parametrize(
    ("issue", "topic"),
    [
        pytest.param("Charged fees or interest you didn't expect", "price_billing", id="fees"),
        pytest.param("Problem with customer service", "service_staff", id="service"),
        pytest.param("Managing an account", "account_technical", id="account"),
        pytest.param("Incorrect information on your report", "other", id="report"),
    ],
)
def test_cfpb_issue_gives_the_topic(issue, topic):
    assert corpora.cfpb_topic(issue) == topic


# -- demo-truth figures ----------------------------------------------------------------------------------------------
def test_recall_precision():
    truth = np.array([True, True, False, False])
    said = np.array([True, False, True, False])
    assert recall_precision(truth, said) == (0.5, 0.5)
    assert recall_precision(np.zeros(2, bool), np.zeros(2, bool)) == (0.0, 0.0)


def test_truth_texts_reads_the_text_back_from_landing(tmp_path):
    (tmp_path / "_truth").mkdir()
    folder = tmp_path / "chats" / "day=2026-01-01"
    folder.mkdir(parents=True)
    pd.DataFrame({"chat_id": ["C1", "C2"], "customer_text": ["late again", ""]}).to_parquet(folder / "part.parquet")
    pd.DataFrame(
        {
            "source_table": ["chats", "chats"],
            "source_column": ["customer_text"] * 2,
            "id": ["C1", "C2"],
            "intent": ["complaint", "other"],
            "emotion": ["anger", "neutral"],
            "sarcasm": [False, False],
        }
    ).to_parquet(tmp_path / "_truth" / "texts.parquet")
    got = truth_texts(tmp_path, tmp_path / "_truth")
    assert got[["id", "text"]].values.tolist() == [["C1", "late again"]]  # an empty text is not a text


def test_truth_figures_count_hits():
    frame = pd.DataFrame(
        {
            "intent": ["complaint", "complaint", "praise"],
            "emotion": ["anger", "fear", "joy"],
            "sarcasm": [True, False, False],
        }
    )
    scored = pd.DataFrame(
        {
            "intent": ["complaint", "praise", "complaint"],
            "dominant_emotion": ["anger", "neutral", "joy"],
            "sarcasm_score": [0.9, 0.0, 0.6],
        }
    )
    figures = truth_figures(frame, scored)
    assert figures["complaint recall"] == 0.5 and figures["complaint precision"] == 0.5
    assert figures["anger recall"] == 1.0 and figures["fear recall"] == 0.0
    assert figures["sarcasm flagged, sarcastic texts"] == 1.0 and figures["sarcasm flagged, other texts"] == 0.5


def test_eval_text_says_why_demo_truth_is_not_computed(tmp_path):
    from empathy.text.evaluate import demo_truth_rows, to_markdown

    rows = demo_truth_rows(model=None, truth_dir=tmp_path / "_truth")
    assert len(rows) == 1 and rows[0].model is None and "no texts.parquet" in rows[0].note
    assert "| not computed |" in to_markdown(rows, "v")
