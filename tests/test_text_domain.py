"""The company's own sentiment models (`empathy.text.domain`), on synthetic rated texts built here."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pyarrow as pa
import pytest

from empathy.text.baseline import baseline_scores, polarity_auc
from empathy.text.domain import (
    EVALUATION_SCHEMA,
    SCORE_SCHEMA,
    fit_domain_sentiment,
    rating_to_label,
    time_split,
)
from empathy.text.schema import SENTIMENT_LABELS

START = np.datetime64("2026-01-01T00:00:00", "us")

# words that carry the sentiment in each language, and filler that carries none
VOCAB = {
    "pt": {
        "positive": ["ótimo", "adorei", "excelente", "perfeito", "recomendo"],
        "neutral": ["razoável", "mediano", "normal", "comum", "aceitável"],
        "negative": ["péssimo", "horrível", "quebrado", "odiei", "atrasou"],
        "filler": ["produto", "entrega", "loja", "pedido", "chegou", "compra", "site", "caixa", "veio", "cliente"],
    },
    "es": {
        "positive": ["genial", "encantó", "estupendo", "maravilloso", "recomiendo"],
        "neutral": ["regular", "correcto", "normalito", "corriente", "pasable"],
        "negative": ["fatal", "horroroso", "roto", "odié", "tardó"],
        "filler": ["producto", "envío", "tienda", "pedido", "llegó", "compra", "web", "caja", "vino", "cliente"],
    },
    "fr": {
        "positive": ["génial", "parfait"],
        "neutral": ["moyen", "correct"],
        "negative": ["nul", "cassé"],
        "filler": ["produit", "livraison", "commande", "magasin"],
    },
}


def texts_for(rng: np.random.Generator, language: str, labels: np.ndarray, vocab: dict | None = None) -> list[str]:
    words = vocab or VOCAB[language]
    out = []
    for label in labels:
        parts = list(rng.choice(words["filler"], size=4)) + list(rng.choice(words[label], size=2))
        rng.shuffle(parts)
        out.append(" ".join(parts))
    return out


def rated(
    language: str,
    n: int,
    *,
    generic: str = "bad",
    days: float = 120.0,
    offset_days: float = 0.0,
    seed: int = 0,
    vocab: dict | None = None,
) -> pa.Table:
    """`n` rated texts evenly spread over `days`; `generic` is 'bad' (a shuffled label) or 'perfect' (the rating)."""
    rng = np.random.default_rng(seed)
    labels = rng.choice(SENTIMENT_LABELS, size=n)
    seconds = (offset_days * 86400 + np.linspace(0, days * 86400, n)).astype("int64")
    generic_labels = labels.copy() if generic == "perfect" else rng.permutation(labels)
    return pa.table(
        {
            "text": texts_for(rng, language, labels, vocab),
            "language": [language] * n,
            "occurred_at": pa.array(START + seconds.astype("timedelta64[s]"), type=pa.timestamp("us")),
            "source": ["review"] * n,
            "rating_label": labels.tolist(),
            "generic_label": generic_labels.tolist(),
        }
    )


def evaluation(model, language: str) -> dict:
    rows = [r for r in model.evaluations().to_pylist() if r["language"] == language]
    assert len(rows) == 1, language
    return rows[0]


@pytest.fixture(scope="module")
def mixed():
    """pt: plenty of data, useless generic labels; es: plenty, perfect generic labels; fr: a handful."""
    table = pa.concat_tables(
        [rated("pt", 600, generic="bad", seed=1), rated("es", 400, generic="perfect", seed=2), rated("fr", 20, seed=3)]
    )
    return fit_domain_sentiment(table)


# -- ratings -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("source", "score", "label"),
    [
        ("review", 1, "negative"),
        ("review", 2, "negative"),
        ("review", 3, "neutral"),
        ("review", 4, "positive"),
        ("review", 5, "positive"),
        ("nps", 0, "negative"),
        ("nps", 6, "negative"),
        ("nps", 7, "neutral"),
        ("nps", 8, "neutral"),
        ("nps", 9, "positive"),
        ("survey_nps", 10, "positive"),
        ("csat", 2, "negative"),
        ("survey_csat", 3, "neutral"),
        ("csat", 4.0, "positive"),
        ("review", 4.5, "positive"),
        ("review", 2.5, "neutral"),
        ("review", 0, None),
        ("review", 6, None),
        ("nps", 11, None),
        ("csat", None, None),
        ("csat", float("nan"), None),
    ],
)
def test_rating_to_label(source, score, label):
    assert rating_to_label(source, score) == label


def test_rating_to_label_rejects_unknown_sources():
    with pytest.raises(ValueError, match="unknown rating source 'stars'"):
        rating_to_label("stars", 4)


# -- the time split ------------------------------------------------------------------------------------------------
def test_time_split_puts_only_newer_rows_in_test():
    rng = np.random.default_rng(0)
    # day-level timestamps: many ties, shuffled order
    times = (START + rng.integers(0, 40, size=1000).astype("timedelta64[D]")).astype("datetime64[us]")
    test = time_split(times, 0.25)
    assert times[test].min() > times[~test].max()
    assert 0.25 <= test.mean() < 0.35


def test_evaluated_on_newer_texts_only(mixed):
    for language in ("pt", "es", "all"):
        row = evaluation(mixed, language)
        assert row["train_end"] < row["test_start"], language
        assert row["n_test"] == pytest.approx(0.25 * (row["n_train"] + row["n_test"]), abs=3)
    assert mixed.cutoff == evaluation(mixed, "all")["test_start"]


def test_no_newer_text_is_learnt_from():
    """The newest quarter carries sentiment in words never seen before: a model that trained on those rows would
    get them right; one trained on the older rows alone cannot do better than chance."""
    older = rated("pt", 300, days=90, seed=4)
    novel = {
        **VOCAB["pt"],
        "positive": ["zork", "quibble"],
        "neutral": ["blorp", "fnord"],
        "negative": ["grue", "xyzzy"],
    }
    newer = rated("pt", 100, days=30, offset_days=100, seed=5, vocab=novel)
    model = fit_domain_sentiment(pa.concat_tables([older, newer]))
    row = evaluation(model, "pt")
    assert (row["n_train"], row["n_test"]) == (300, 100)
    assert row["domain_macro_f1"] < 0.6
    assert row["domain_auc"] < 0.75 and row["baseline_auc"] < 0.75  # both judged on words they never saw


# -- out-of-time AUC -----------------------------------------------------------------------------------------------
def test_out_of_time_aucs_are_stored_beside_macro_f1(mixed):
    row = evaluation(mixed, "pt")
    assert row["domain_auc"] > 0.9 and row["baseline_auc"] > 0.5
    assert row["generic_auc"] is None  # no generic_score given
    assert "out-of-time AUC" in row["reason"] and "baseline" in row["reason"]
    assert evaluation(mixed, "fr")["domain_auc"] is None and evaluation(mixed, "fr")["baseline_auc"] is None


def test_baseline_auc_is_that_of_a_baseline_fitted_on_the_same_older_rows():
    table = rated("pt", 300, seed=6)
    row = evaluation(fit_domain_sentiment(table, min_train=100), "pt")
    test = time_split(table["occurred_at"].to_numpy().astype("datetime64[us]"), 0.25)
    texts, labels = np.array(table["text"].to_pylist()), np.array(table["rating_label"].to_pylist())
    expected = polarity_auc(labels[test], baseline_scores(texts[~test], labels[~test], texts[test]))
    assert row["baseline_auc"] == pytest.approx(expected)


@pytest.mark.parametrize(("sign", "auc"), [pytest.param(1.0, 1.0, id="right"), pytest.param(-1.0, 0.0, id="reversed")])
def test_generic_auc_from_generic_score(sign, auc):
    table = rated("pt", 300, seed=7)
    score = [sign * {"positive": 0.8, "neutral": 0.0, "negative": -0.8}[y] for y in table["rating_label"].to_pylist()]
    table = table.append_column("generic_score", pa.array(score))
    row = evaluation(fit_domain_sentiment(table, min_train=100), "pt")
    assert row["generic_auc"] == pytest.approx(auc)


# -- choosing ------------------------------------------------------------------------------------------------------
def test_domain_model_beats_bad_generic_labels_and_is_chosen(mixed):
    row = evaluation(mixed, "pt")
    assert row["chosen_model"] == "domain" and row["domain_model"] == "domain:pt"
    assert row["domain_macro_f1"] > 0.9 > 0.5 > row["generic_macro_f1"]
    assert row["domain_accuracy"] > row["generic_accuracy"]
    assert mixed.routes["pt"] == "pt" and "pt" in mixed.models
    # the pooled model also beats the generic labels overall, but it scores no language here
    pooled = evaluation(mixed, "all")
    assert pooled["domain_macro_f1"] > pooled["generic_macro_f1"]
    assert pooled["chosen_model"] == "generic" and "scores no language" in pooled["reason"]
    assert "all" not in mixed.models


def test_perfect_generic_labels_keep_the_generic_model(mixed):
    row = evaluation(mixed, "es")
    assert row["generic_macro_f1"] == 1.0 and row["generic_accuracy"] == 1.0
    assert row["domain_macro_f1"] is not None and row["domain_macro_f1"] <= 1.0
    assert row["chosen_model"] == "generic" and "generic model stays" in row["reason"]
    assert "es" not in mixed.routes and "es" not in mixed.models


def test_too_little_data_gets_no_model_and_says_why(mixed):
    row = evaluation(mixed, "fr")
    assert row["n_train"] + row["n_test"] == 20
    assert row["chosen_model"] == "generic" and row["domain_model"] is None and row["domain_macro_f1"] is None
    assert "too little data" in row["reason"] and "min_train 200" in row["reason"]
    assert "fr" not in mixed.routes


def test_pooled_model_serves_a_language_with_few_older_texts():
    # es: 180 older texts (< min_train) but 60 newer ones to judge the pooled model on
    table = pa.concat_tables([rated("pt", 600, seed=6), rated("es", 240, seed=7)])
    model = fit_domain_sentiment(table)
    row = evaluation(model, "es")
    assert (row["n_train"], row["n_test"]) == (180, 60)
    assert row["domain_model"] == "domain:all" and row["chosen_model"] == "domain"
    assert "pooled" in row["reason"] and "min_train 200" in row["reason"]
    assert model.routes == {"pt": "pt", "es": "all"}
    pooled = evaluation(model, "all")
    assert pooled["chosen_model"] == "domain" and pooled["reason"].endswith("it scores es")
    scored = model.score(["producto genial, lo recomiendo", "pedido fatal, llegó roto"], ["es", "es"])
    assert scored["sentiment_model"].to_pylist() == ["domain:all", "domain:all"]
    assert scored["sentiment_label"].to_pylist() == ["positive", "negative"]


def test_evaluations_are_typed_one_row_per_language(mixed):
    evaluations = mixed.evaluations()
    assert evaluations.schema == EVALUATION_SCHEMA
    assert evaluations["language"].to_pylist() == ["es", "fr", "pt", "all"]
    assert set(evaluations["chosen_model"].to_pylist()) <= {"domain", "generic"}


# -- scoring -------------------------------------------------------------------------------------------------------
def test_score_fills_only_languages_whose_domain_model_won(mixed):
    texts = ["adorei o produto, excelente", "pedido péssimo, chegou quebrado", "producto genial", "produit nul", "  "]
    scored = mixed.score(texts, ["pt", "pt", "es", "fr", "pt"])
    assert scored.schema == SCORE_SCHEMA and scored.num_rows == 5
    assert scored["sentiment_model"].to_pylist() == ["domain:pt", "domain:pt", None, None, None]
    assert scored["sentiment_label"].to_pylist() == ["positive", "negative", None, None, None]
    assert scored["sentiment_score"].null_count == 3 and scored["sentiment_intensity"].null_count == 3
    score = scored["sentiment_score"].to_pylist()
    intensity = scored["sentiment_intensity"].to_pylist()
    assert score[0] > 0.3 and score[1] < -0.3
    assert all(0.0 <= v <= 1.0 for v in intensity[:2])


def test_score_labels_fresh_texts_well(mixed):
    fresh = rated("pt", 200, seed=99)
    scored = mixed.score(fresh["text"].to_pylist(), fresh["language"].to_pylist())
    labels = np.array(scored["sentiment_label"].to_pylist())
    assert (labels == np.array(fresh["rating_label"].to_pylist())).mean() > 0.9
    score = np.array(scored["sentiment_score"].to_pylist())
    assert score.min() >= -1.0 and score.max() <= 1.0


def test_score_checks_lengths(mixed):
    with pytest.raises(ValueError, match="2 texts but 1 languages"):
        mixed.score(["a", "b"], ["pt"])


def test_fit_is_deterministic():
    table = pa.concat_tables([rated("pt", 300, seed=8)])
    first, second = fit_domain_sentiment(table, min_train=100), fit_domain_sentiment(table, min_train=100)
    assert first.evaluations().equals(second.evaluations())
    texts = table["text"].to_pylist()[:50]  # rated texts: scored by the fold models
    assert first.crossfits["pt"].fold_of == second.crossfits["pt"].fold_of
    assert first.score(texts, ["pt"] * 50).equals(second.score(texts, ["pt"] * 50))


# -- bad and empty input -------------------------------------------------------------------------------------------
def test_missing_column_is_named():
    table = rated("pt", 10).drop_columns(["generic_label"])
    with pytest.raises(ValueError, match=r"lacks column\(s\) generic_label.*generic model's sentiment_label"):
        fit_domain_sentiment(table)


def test_unknown_labels_are_rejected():
    table = rated("pt", 10)
    table = table.set_column(4, "rating_label", pa.array(["pos"] * 10))
    with pytest.raises(ValueError, match="'rating_label' holds 'pos'"):
        fit_domain_sentiment(table)


def test_non_temporal_occurred_at_is_rejected():
    table = rated("pt", 10)
    table = table.set_column(2, "occurred_at", pa.array(["2026-01-01"] * 10))
    with pytest.raises(ValueError, match="'occurred_at' must hold timestamps"):
        fit_domain_sentiment(table)


def test_empty_input_gives_typed_empty_result():
    model = fit_domain_sentiment(rated("pt", 0))
    assert model.evaluations().num_rows == 0 and model.evaluations().schema == EVALUATION_SCHEMA
    assert model.models == {} and model.routes == {}
    scored = model.score(["ótimo"], ["pt"])
    assert scored.schema == SCORE_SCHEMA and scored["sentiment_model"].to_pylist() == [None]
    assert model.score([], []).num_rows == 0


def test_rows_without_rating_or_text_are_left_out():
    table = rated("pt", 300, seed=9)
    extra = pa.table(
        {
            "text": ["", None, "ótimo produto"],
            "language": ["pt", "pt", None],
            "occurred_at": pa.array([datetime(2026, 6, 1)] * 3, type=pa.timestamp("us")),
            "source": ["review"] * 3,
            "rating_label": ["positive", "positive", None],
            "generic_label": ["positive"] * 3,
        }
    )
    model = fit_domain_sentiment(pa.concat_tables([table, extra]), min_train=100)
    row = evaluation(model, "pt")
    assert row["n_train"] + row["n_test"] == 300
    assert "und" not in model.evaluations()["language"].to_pylist()
