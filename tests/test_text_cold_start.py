"""Scoring starts fast: no scikit-learn import, no full-table copy, and the same numbers as before."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sps

from empathy.text.embedding import StaticEmbedder
from empathy.text.features import WORD_NGRAMS, WordNgramCounter, l2_normalise_rows

TEXTS = [
    "Where is my order? It was supposed to arrive yesterday",
    "I want to cancel my subscription",
    "não chegou, quero reembolso já!!",
    "the the the delivery delivery",
    "",
    "a b c",
    "É_um teste com-hífens e ÚNICO",
]


def test_scoring_does_not_import_scikit_learn():
    code = "import sys, empathy.text.scoring, empathy.text.model; print('sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_word_ngram_counts_match_scikit_learn():
    from sklearn.feature_extraction.text import CountVectorizer

    vocabulary = ["order", "my order", "cancel", "subscription", "não", "chegou", "the", "the the", "delivery", "um"]
    expected = CountVectorizer(ngram_range=WORD_NGRAMS, vocabulary=vocabulary, lowercase=True).transform(TEXTS)
    counts = WordNgramCounter(vocabulary).transform(TEXTS)
    assert counts.dtype == expected.dtype
    assert np.array_equal(counts.indptr, expected.indptr)
    assert np.array_equal(counts.indices, expected.indices)
    assert np.array_equal(counts.data, expected.data)


def test_l2_rows_match_scikit_learn_bit_for_bit():
    from sklearn.preprocessing import normalize

    rng = np.random.default_rng(3)
    matrix = sps.random(50, 40, density=0.2, format="csr", random_state=rng, dtype=np.float32) * 7.3
    matrix = sps.vstack([matrix, sps.csr_matrix((1, 40), dtype=np.float32)], format="csr")  # an empty row
    expected = normalize(matrix.copy())
    ours = l2_normalise_rows(matrix.copy())
    assert ours.dtype == np.float32
    assert np.array_equal(ours.data, expected.data)


class _Pieces:
    """SentencePiece stand-in: a text's pieces are its characters' code points modulo the vocabulary."""

    def __init__(self, size: int):
        self.size = size

    def get_piece_size(self) -> int:
        return self.size

    def get_score(self, ids):
        return [-1.0 - (i % 7) for i in ids]

    def encode(self, texts):
        return [[ord(c) % self.size for c in t] for t in texts]


@pytest.fixture
def small_embedder(monkeypatch):
    import empathy.text.embedding as embedding

    monkeypatch.setattr(embedding, "sentencepiece", lambda: _Pieces(64))
    table = np.random.default_rng(5).normal(size=(64, 8)).astype(np.float16)
    return StaticEmbedder(table), table


def test_embedding_widens_only_used_rows_and_equals_the_full_product(small_embedder):
    embedder, table = small_embedder
    out = embedder.embed(TEXTS)
    ids = embedder.sp.encode([t.lower() for t in TEXTS])
    full = np.zeros((len(TEXTS), table.shape[1]), dtype=np.float32)
    for row, pieces in enumerate(ids):
        weights = sps.csr_matrix(
            (embedder.weights[pieces], pieces, [0, len(pieces)]), shape=(1, table.shape[0]), dtype=np.float32
        )
        full[row] = np.asarray(weights @ table.astype(np.float32))[0]
    norms = np.linalg.norm(full, axis=1, keepdims=True)
    np.divide(full, norms, out=full, where=norms > 0)
    assert embedder.table.dtype == np.float16  # kept as stored, no 130 MB float32 copy
    assert np.array_equal(out, full)
    assert not out[TEXTS.index("")].any()
