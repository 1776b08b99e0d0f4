"""A text's language: the detector where it is sure, the customer's or the company's language where it is not."""

from __future__ import annotations

import ibis
import pyarrow as pa
import pytest

from empathy.text import language as lang
from empathy.text import warehouse as tw

SWITCH = lang.SWITCH_CONFIDENCE
MIX = {"en": 0.7, "es": 0.27, "fr": 0.03}


@pytest.mark.parametrize(
    ("detected", "confidence", "declared", "mix", "expected"),
    [
        pytest.param("fr", 0.59, "en", MIX, ("en", "customer"), id="unsure-detection-takes-customer-language"),
        pytest.param("de", 0.85, "pt-BR", MIX, ("pt", "customer"), id="locale-counts-as-declared"),
        pytest.param("es", 0.999, "pt", MIX, ("es", "detected"), id="strong-evidence-switches"),
        pytest.param("pt", 0.62, "pt", MIX, ("pt", "detected"), id="detector-agrees"),
        pytest.param("und", 0.0, "es", MIX, ("es", "customer"), id="undetermined-takes-customer"),
        pytest.param("fr", 0.74, None, MIX, ("en", "company_mix"), id="rare-language-takes-company-main"),
        pytest.param("es", 0.80, None, MIX, ("es", "detected"), id="company-language-kept"),
        pytest.param("und", 0.0, None, MIX, ("en", "company_mix"), id="undetermined-takes-company-main"),
        pytest.param("fr", 0.74, "nl", {}, ("fr", "detected"), id="unknown-declared-and-no-mix"),
    ],
)
def test_resolve_language(detected, confidence, declared, mix, expected):
    assert lang.resolve_language(detected, confidence, declared, mix, SWITCH) == expected


def test_switch_confidence_is_the_bar():
    assert lang.resolve_language("es", 0.9, "pt", MIX, 0.95) == ("pt", "customer")
    assert lang.resolve_language("es", 0.9, "pt", MIX, 0.85) == ("es", "detected")


def test_company_mix_counts_confident_longer_texts_only():
    n = lang.MIX_MIN_TEXTS
    detected = ["en"] * n + ["pt"] * n + ["fr"] * n + ["und"] * n
    confidences = [1.0] * n + [0.99] * n + [0.6] * n + [0.0] * n
    words = [8] * n + [6] * (n // 2) + [2] * (n - n // 2) + [9] * n + [9] * n
    assert lang.company_mix(detected, confidences, words) == pytest.approx({"en": n / (n + n // 2), "pt": 0.5 / 1.5})
    assert lang.company_mix(["en"] * (n - 1), [1.0] * (n - 1), [9] * (n - 1)) == {}


@pytest.fixture(scope="module")
def model():
    from empathy.text.model import load_model

    return load_model()


@pytest.mark.parametrize(
    ("text", "declared", "expected"),
    [
        ("I want to cancel my subscription", "en", "en"),
        ("Change my details", "en", "en"),
        ("gostei", "pt", "pt"),
        ("quero reembolso", "pt-BR", "pt"),
        ("muy mal servicio", "pt", "es"),  # strong evidence: the detector is sure it is Spanish
    ],
)
def test_short_texts_with_a_customer_prior(model, text, declared, expected):
    out = model.score([text], lang.LanguagePrior([declared]))
    assert out["language"].to_pylist() == [expected]
    assert 0.0 <= out["language_confidence"][0].as_py() <= 1.0


def test_detection_and_its_confidence_are_stored(model):
    out = model.score(
        ["gostei", "Where is my order? It should have arrived yesterday"], lang.LanguagePrior(["pt", "pt"])
    )
    assert out["detected_language"].to_pylist() == ["de", "en"]
    assert out["language_source"].to_pylist() == ["customer", "detected"]
    assert out["language_confidence"][1].as_py() >= SWITCH


def test_a_prior_into_english_uses_the_english_heads(model):
    plain = model.score(["I want to cancel my subscription"])
    primed = model.score(["I want to cancel my subscription"], lang.LanguagePrior(["en"]))
    assert plain["language"][0].as_py() != "en"
    assert primed["language"][0].as_py() == "en"
    assert primed["intent"][0].as_py() == "cancellation_intent"
    assert primed["intent_confidence"][0].as_py() != plain["intent_confidence"][0].as_py()


CASES = [  # detected, confidence, words, customer, declared language of the customer
    ("fr", 0.59, 6, "c1", "en"),
    ("de", 0.85, 1, "c2", "pt-BR"),
    ("es", 0.999, 3, "c3", "pt"),
    ("und", 0.0, 1, "c4", "es"),
    ("fr", 0.74, 3, None, None),
    ("es", 0.80, 2, "c5", None),
    ("und", 0.0, 1, None, None),
    ("it", 0.7, 2, "c6", "nl"),
]


def test_warehouse_resolution_matches_python():
    n = lang.MIX_MIN_TEXTS
    mix_rows = [("en", 1.0, 9, None)] * n + [("es", 1.0, 9, None)] * (n // 2)
    rows = [(d, c, w, cust) for d, c, w, cust, _ in CASES] + mix_rows
    signals = ibis.memtable(
        pa.table(
            {
                "customer_id": [r[3] for r in rows],
                "text": [" ".join(["w"] * r[2]) for r in rows],
                "language": [r[0] for r in rows],
                "detected_language": pa.nulls(len(rows), pa.string()),  # rows cached before the column existed
                "language_confidence": [r[1] for r in rows],
            }
        )
    )
    customers = ibis.memtable(
        pa.table({"customer_id": [c[3] for c in CASES if c[3]], "language": [c[4] for c in CASES if c[3]]})
    )
    mix = tw.signals_mix(signals, SWITCH)
    assert mix == pytest.approx({"en": 2 / 3, "es": 1 / 3})
    resolved = tw.resolve_signal_languages(signals, tw.declared_languages(customers), mix, SWITCH)
    got = resolved.to_pyarrow().to_pylist()
    by_case = {(r["customer_id"], r["text"], r["language_confidence"]): r for r in got}
    for detected, confidence, words, customer, declared in CASES:
        row = by_case[(customer, " ".join(["w"] * words), confidence)]
        expected = lang.resolve_language(detected, confidence, declared, mix, SWITCH)
        assert (row["language"], row["language_source"]) == expected
        assert row["detected_language"] == detected


def test_eval_row_counts_short_texts_only_and_beats_the_detector(model):
    from empathy.text.evaluate import short_text_language_accuracy

    texts = ["gostei", "Change my details", "Where is my order? It should have arrived yesterday"]
    n, primed, alone = short_text_language_accuracy(texts, ["pt", "en", "en"], ["pt", "en", "en"], model)
    assert (n, primed, alone) == (2, 1.0, 0.0)


def test_eval_row_says_why_without_truth(model, tmp_path):
    from empathy.text.evaluate import short_text_language_rows, to_markdown

    rows = short_text_language_rows(model, tmp_path / "_truth")
    assert rows[0].note.startswith(f"no ground truth at {tmp_path / '_truth' / 'texts.parquet'}")
    assert "not computed" in to_markdown(rows[:1], "v")
    assert rows[1].n > 0 and rows[1].model >= 0.99  # first words of the project's eval texts, writer's language known
