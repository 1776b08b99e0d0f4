"""Out-of-time AUC and the char n-gram baseline (`empathy.text.baseline`)."""

from __future__ import annotations

import numpy as np
import pytest

from empathy.text.baseline import baseline_scores, polarity_auc


@pytest.mark.parametrize(
    ("labels", "score", "auc"),
    [
        pytest.param(["positive", "negative", "positive", "negative"], [0.9, -0.5, 0.4, 0.1], 1.0, id="perfect"),
        pytest.param(["positive", "negative", "positive", "negative"], [-0.9, 0.5, -0.4, -0.1], 0.0, id="reversed"),
        pytest.param(["positive", "negative", "positive", "negative"], [0.2, 0.3, 0.4, 0.1], 0.75, id="one swap"),
        pytest.param(["positive", "neutral", "negative"], [0.1, 0.9, -0.1], 1.0, id="neutral left out"),
        pytest.param(["positive", "negative", "negative"], [0.5, float("nan"), 0.9], 0.0, id="nan left out"),
    ],
)
def test_polarity_auc(labels, score, auc):
    assert polarity_auc(labels, score) == pytest.approx(auc)


@pytest.mark.parametrize(
    ("labels", "score"),
    [
        pytest.param(["positive", "positive", "neutral"], [0.1, 0.2, 0.3], id="no negative"),
        pytest.param([], [], id="empty"),
        pytest.param(["positive", "negative"], [0.1, float("nan")], id="negative unscored"),
    ],
)
def test_polarity_auc_without_both_sides_is_none(labels, score):
    assert polarity_auc(labels, score) is None


def test_baseline_learns_from_character_ngrams():
    rng = np.random.default_rng(0)
    stems = {"positive": ["wonderful", "lovely"], "negative": ["horrible", "dreadful"]}
    labels = rng.choice(["positive", "negative"], size=200)
    texts = [f"the dress was {rng.choice(stems[y])}ly made" for y in labels]
    # unseen word forms that share their stems with the training words
    test_labels = ["positive", "negative", "positive", "negative"]
    test = ["wonderfully soft", "horribly thin", "lovelier than hoped", "dreadfully cut"]
    scores = baseline_scores(texts, labels, test)
    assert polarity_auc(test_labels, scores) == 1.0
    assert np.all(np.abs(scores) <= 1.0)


def test_baseline_needs_two_labels():
    assert baseline_scores(["good", "fine", "nice"], ["positive"] * 3, ["ok"]) is None
