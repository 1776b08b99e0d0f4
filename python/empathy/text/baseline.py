"""Out-of-time polarity AUC, and the plain text classifier a company model has to beat.

The AUC is that of a sentiment score (P(positive) - P(negative), or the generic model's score) at telling the texts
rated positive from those rated negative; texts rated neutral are left out (they have no side). The baseline is
the standard strong text classifier: char_wb 2-5 gram TF-IDF (sublinear tf, n-grams seen in at least two training
texts) and a logistic regression at sklearn's default strength (C=1), fitted on the same rows as the company model.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline

BASELINE_NAME = "char_wb 2-5 TF-IDF + logistic regression"
MAX_ITER = 2000


def polarity_auc(labels: Sequence[str] | np.ndarray, score: Sequence[float] | np.ndarray) -> float | None:
    """ROC AUC of `score` for 'positive' against 'negative' labels (neutral and missing scores left out).

    None when either side has no text: there is nothing to rank.
    """
    labels = np.asarray(labels, dtype=object)
    score = np.asarray(score, dtype=np.float64)
    keep = np.isin(labels, ["positive", "negative"]) & np.isfinite(score)
    truth = labels[keep] == "positive"
    if truth.all() or not truth.any():
        return None
    return float(roc_auc_score(truth, score[keep]))


def char_ngram_baseline(seed: int = 0) -> Pipeline:
    """The baseline classifier, unfitted."""
    return Pipeline(
        [
            ("tfidf", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)),
            ("clf", LogisticRegression(C=1.0, max_iter=MAX_ITER, random_state=seed)),
        ]
    )


def baseline_scores(
    train_texts: Sequence[str], train_labels: Sequence[str], test_texts: Sequence[str], seed: int = 0
) -> np.ndarray | None:
    """P(positive) - P(negative) of `test_texts` from the baseline fitted on the training texts.

    None when the training texts carry fewer than two labels. A label absent from them has probability 0.
    """
    labels = np.asarray(train_labels, dtype=object)
    if len(np.unique(labels)) < 2:
        return None
    try:
        model = char_ngram_baseline(seed).fit(list(train_texts), labels)
    except ValueError:  # no n-gram in two training texts: nothing to learn from
        return None
    proba = model.predict_proba(list(test_texts))
    classes = list(model.classes_)

    def column(label: str) -> np.ndarray:
        return proba[:, classes.index(label)] if label in classes else np.zeros(len(test_texts))

    return column("positive") - column("negative")


__all__ = ["BASELINE_NAME", "baseline_scores", "char_ngram_baseline", "polarity_auc"]
