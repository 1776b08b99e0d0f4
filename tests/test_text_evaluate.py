"""`empathy eval-text`'s row for the company model (`empathy.text.evaluate.company_model_row`)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from empathy.text.corpora import Labelled
from empathy.text.evaluate import company_model_row, to_markdown
from tests.test_text_domain import texts_for


class SaysNeutral:
    """A generic model that knows the language and nothing of sentiment."""

    def score(self, texts):
        n = len(texts)
        return pa.table({"language": ["pt"] * n, "sentiment_label": ["neutral"] * n, "sentiment_score": np.zeros(n)})


def reviews(n: int, seed: int) -> Labelled:
    rng = np.random.default_rng(seed)
    labels = rng.choice(["negative", "neutral", "positive"], size=n)
    return Labelled(texts_for(rng, "pt", labels), labels.tolist(), "test")


def test_company_row_holds_the_out_of_time_aucs():
    row = company_model_row(SaysNeutral(), reviews(400, seed=0))
    assert row.n == 100  # the newest quarter
    assert row.model > 0.9 and set(row.other) == {"baseline", "generic"}
    assert row.other["generic"] == 0.5  # a constant score ranks nothing
    table = to_markdown([row], "v1")
    assert f"| {row.model:.3f} |" in table and f"baseline {row.other['baseline']:.3f}" in table


def test_company_row_says_why_not_computed():
    row = company_model_row(SaysNeutral(), None, "rated reviews not found at /nowhere")
    assert row.model is None
    assert "| not computed |" in to_markdown([row], "v1") and "rated reviews not found at /nowhere" in row.note
    few = company_model_row(SaysNeutral(), reviews(40, seed=1))
    assert few.model is None and "not computed" in few.note and "min_train" in few.note
