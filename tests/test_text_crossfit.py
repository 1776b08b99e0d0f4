"""Cross-fitted company scores (`empathy.text.crossfit`): no rated text is scored by a model that learnt it."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from empathy.text.crossfit import NOT_TRAINED_ON, CrossFit, cross_fit, time_folds
from empathy.text.domain import fit_domain_sentiment
from tests.test_text_domain import START, rated


def shuffled_times(n: int, seed: int) -> np.ndarray:
    """Day-level times (many ties) in shuffled order."""
    rng = np.random.default_rng(seed)
    return (START + rng.integers(0, 60, size=n).astype("timedelta64[D]")).astype("datetime64[us]")


# -- folds ---------------------------------------------------------------------------------------------------------
def test_folds_are_blocks_of_time_oldest_first():
    times = shuffled_times(500, seed=0)
    texts = [f"text {i}" for i in range(500)]
    folds, _ = time_folds(times, texts, 5)
    assert sorted(set(folds.tolist())) == [0, 1, 2, 3, 4]
    for fold in range(4):
        assert times[folds == fold].max() <= times[folds == fold + 1].min()
    assert sorted(np.bincount(folds).tolist()) == [100] * 5


def test_every_copy_of_a_text_is_in_the_fold_of_its_first_appearance():
    times = np.array([START + np.timedelta64(d, "D") for d in range(10)])
    texts = ["a", "b", "c", "d", "e", "f", "g", "h", "a ", "  b"]  # late copies of a and b (other spacing)
    folds, fold_of = time_folds(times, texts, 5)
    assert folds[8] == folds[0] == fold_of["a"] == 0 and folds[9] == folds[1] == fold_of["b"]
    assert len(fold_of) == 8


def test_folds_do_not_depend_on_row_order():
    times = shuffled_times(300, seed=1)
    texts = [f"text {i % 250}" for i in range(300)]
    order = np.random.default_rng(2).permutation(300)
    _, first = time_folds(times, texts, 4)
    _, second = time_folds(times[order], [texts[i] for i in order], 4)
    assert first == second


def test_fewer_texts_than_folds_and_bad_arguments():
    folds, _ = time_folds(shuffled_times(3, seed=3), ["x", "y", "z"], 5)
    assert sorted(folds.tolist()) == [0, 1, 2]
    with pytest.raises(ValueError, match="n_folds must be at least 2"):
        time_folds(shuffled_times(3, seed=3), ["x", "y", "z"], 1)
    with pytest.raises(ValueError, match="2 times but 3 texts"):
        time_folds(shuffled_times(2, seed=3), ["x", "y", "z"], 2)


def test_no_fold_model_is_fitted_on_its_own_fold():
    times = shuffled_times(60, seed=4)
    texts = [f"text {i}" for i in range(60)]
    labels = np.array(["positive", "negative"] * 30)
    seen: list[set[str]] = []

    def fit(rows, y):
        seen.append({texts[i] for i in rows})
        return len(seen) - 1

    crossfit = cross_fit(np.arange(60), labels, texts, times, fit, 3)
    assert crossfit.models == [0, 1, 2]
    for fold, trained_on in enumerate(seen):
        mine = {t for t, f in crossfit.fold_of.items() if f == fold}
        assert mine and not mine & trained_on and len(trained_on) == 60 - len(mine)


def test_a_fold_whose_other_rows_hold_one_label_gets_no_model():
    times = np.array([START + np.timedelta64(d, "D") for d in range(6)])
    labels = np.array(["negative", "negative", "positive", "positive", "positive", "positive"])
    crossfit = cross_fit(np.arange(6), labels, list("abcdef"), times, lambda rows, y: "model", 3)
    assert crossfit.models == [None, "model", "model"]  # fold 0 holds every negative


def test_texts_never_trained_on_have_no_fold():
    crossfit = CrossFit(fold_of={"seen text": 2}, models=[None, None, None])
    assert crossfit.folds(["seen  text ", "new text"]).tolist() == [2, NOT_TRAINED_ON]


# -- published scores ----------------------------------------------------------------------------------------------
def planted(n: int, seed: int) -> pa.Table:
    """Texts of random letters under random ratings: nothing to generalise from, everything to memorise."""
    rng = np.random.default_rng(seed)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    texts = ["".join(rng.choice(letters, size=5)) + " " + "".join(rng.choice(letters, size=5)) for _ in range(n)]
    seconds = np.linspace(0, 120 * 86400, n).astype("int64") + 1
    labels = rng.choice(["negative", "neutral", "positive"], size=n)
    return pa.table(
        {
            "text": texts,
            "language": ["pt"] * n,
            "occurred_at": pa.array(START + seconds.astype("timedelta64[s]"), type=pa.timestamp("us")),
            "source": ["review"] * n,
            "rating_label": labels.tolist(),
            "generic_label": rng.permutation(labels).tolist(),
        }
    )


@pytest.fixture(scope="module")
def with_planted():
    noise = planted(60, seed=11)
    return noise, fit_domain_sentiment(pa.concat_tables([rated("pt", 300, seed=10), noise]))


def test_planted_labels_are_not_leaked_into_published_scores(with_planted):
    noise, model = with_planted
    assert model.routes == {"pt": "pt"}
    texts, truth = noise["text"].to_pylist(), np.array(noise["rating_label"].to_pylist())
    published = np.array(model.score(texts, ["pt"] * len(texts))["sentiment_label"].to_pylist())
    full = model.models["pt"]
    memorised = full.classes_[full.predict_proba(model_features(texts)).argmax(axis=1)]
    assert (memorised == truth).mean() > 0.8  # the model fitted on every text has learnt the planted labels
    assert (published == truth).mean() < 0.5  # the published ones come from models that never saw them


def test_fresh_texts_are_scored_by_the_model_fitted_on_everything(with_planted):
    _, model = with_planted
    fresh = rated("pt", 30, seed=12)["text"].to_pylist()
    published = np.array(model.score(fresh, ["pt"] * 30)["sentiment_score"].to_pylist())
    proba = model.models["pt"].predict_proba(model_features(fresh))
    classes = list(model.models["pt"].classes_)
    expected = proba[:, classes.index("positive")] - proba[:, classes.index("negative")]
    np.testing.assert_allclose(published, expected)


def test_a_copy_with_other_spacing_is_scored_as_the_rated_text(with_planted):
    noise, model = with_planted
    text = noise["text"][0].as_py()
    scored = model.score([text, f"  {text.replace(' ', '   ')} "], ["pt", "pt"])["sentiment_score"].to_pylist()
    assert scored[0] == scored[1]


def model_features(texts: list[str]):
    from empathy.text.domain import _features

    return _features(texts)
