"""Feature extraction shared by training and scoring (one code path, so they cannot drift).

Two views of a text:
- `multilingual`: the static USE-distilled embedding plus the surface signals and the customer-service cues. It means the same thing
  in every language the teacher knows, so heads trained on English labels transfer to Spanish and
  Portuguese.
- `english`: the multilingual view plus TF-IDF word (1-2) and char_wb (2-5) n-grams over the training
  vocabulary. Sharper in English, meaningless elsewhere, so it is used only for texts detected as English.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sps

from empathy.text.cues import cue_matrix, feature_columns
from empathy.text.embedding import StaticEmbedder
from empathy.text.signals import surface

STATIC_SCALE = 2.0  # the embedding's weight against the sparse n-grams (tuned on GoEmotions train folds)
WORD_NGRAMS = (1, 2)
CHAR_NGRAMS = (2, 5)
WORD_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token_pattern


class WordNgramCounter:
    """Counts of word n-grams over a fixed vocabulary, identical to
    `CountVectorizer(ngram_range=WORD_NGRAMS, vocabulary=..., lowercase=True).transform` (same tokens, same
    sorted int64 matrix) without importing scikit-learn, which takes longer to import than the model to load."""

    def __init__(self, vocabulary: list[str]):
        self.index = {term: i for i, term in enumerate(vocabulary)}
        self.size = len(vocabulary)

    def ngrams(self, text: str) -> list[str]:
        tokens = WORD_TOKEN.findall(text.lower())
        grams = list(tokens) if WORD_NGRAMS[0] == 1 else []
        for n in range(max(WORD_NGRAMS[0], 2), min(WORD_NGRAMS[1], len(tokens)) + 1):
            grams.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
        return grams

    def transform(self, texts: list[str]) -> sps.csr_matrix:
        indices: list[int] = []
        indptr = [0]
        for text in texts:
            indices.extend(i for i in map(self.index.get, self.ngrams(text)) if i is not None)
            indptr.append(len(indices))
        matrix = sps.csr_matrix(
            (np.ones(len(indices), dtype=np.int64), np.asarray(indices, dtype=np.int64), np.asarray(indptr)),
            shape=(len(texts), self.size),
        )
        matrix.sum_duplicates()
        return matrix


def l2_normalise_rows(matrix: sps.csr_matrix) -> sps.csr_matrix:
    """Each row divided by its L2 norm in place (empty rows left as they are), as scikit-learn's
    `normalize(matrix)` computes it: squares in the data's type, summed and divided in float64."""
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    norms = np.sqrt(np.bincount(rows, weights=(matrix.data * matrix.data).astype(np.float64), minlength=len(rows)))
    norms[norms == 0] = 1.0
    matrix.data = (matrix.data.astype(np.float64) / norms[rows]).astype(matrix.data.dtype)
    return matrix


class CharWbCounter:
    """Counts of char_wb n-grams over a fixed vocabulary, identical to
    `CountVectorizer(analyzer="char_wb", ngram_range=CHAR_NGRAMS, lowercase=True)` but computed per distinct
    word and memoised: char_wb n-grams never cross a word boundary, so a text's counts are the sum of its
    words' counts, and customer vocabularies are small. 5-10x faster than scikit-learn's Python analyzer."""

    MAX_CACHED_WORDS = 500_000

    def __init__(self, vocabulary: list[str]):
        self.index = {term: i for i, term in enumerate(vocabulary)}
        self.size = len(vocabulary)
        self.cache: dict[str, list[int]] = {}

    def _word_ids(self, word: str) -> list[int]:
        w = " " + word + " "
        w_len = len(w)
        ids = []
        index = self.index
        for n in range(CHAR_NGRAMS[0], CHAR_NGRAMS[1] + 1):
            if w_len <= n:  # a short word counts once, as a whole
                i = index.get(w)
                if i is not None:
                    ids.append(i)
                break
            for offset in range(w_len - n + 1):
                i = index.get(w[offset : offset + n])
                if i is not None:
                    ids.append(i)
        return ids

    def transform(self, texts: list[str]) -> sps.csr_matrix:
        cache = self.cache
        if len(cache) > self.MAX_CACHED_WORDS:
            cache.clear()
        indices: list[int] = []
        indptr = [0]
        for text in texts:
            for word in text.lower().split():
                ids = cache.get(word)
                if ids is None:
                    ids = cache[word] = self._word_ids(word)
                indices.extend(ids)
            indptr.append(len(indices))
        data = np.ones(len(indices), dtype=np.int64)
        matrix = sps.csr_matrix(
            (data, np.asarray(indices, dtype=np.int64), np.asarray(indptr, dtype=np.int64)),
            shape=(len(texts), self.size),
        )
        matrix.sum_duplicates()
        return matrix


@dataclass
class NgramVocab:
    """Fixed vocabularies and idf weights, stored with the model; transform is sublinear TF-IDF, L2 per block."""

    word_vocab: list[str]
    word_idf: np.ndarray
    char_vocab: list[str]
    char_idf: np.ndarray

    def __post_init__(self):
        self._word = WordNgramCounter(self.word_vocab)
        self._char = CharWbCounter(self.char_vocab)

    @staticmethod
    def _tfidf(counts: sps.csr_matrix, idf: np.ndarray) -> sps.csr_matrix:
        counts = counts.astype(np.float32)
        counts.data = 1.0 + np.log(counts.data)
        return l2_normalise_rows((counts @ sps.diags(idf.astype(np.float32))).tocsr())

    def transform(self, texts: list[str]) -> sps.csr_matrix:
        word = self._tfidf(self._word.transform(texts), self.word_idf)
        char = self._tfidf(self._char.transform(texts), self.char_idf)
        return sps.hstack([word, char], format="csr")

    @classmethod
    def fit(cls, texts: list[str], word_min_df: int = 2, char_min_df: int = 3) -> NgramVocab:
        from sklearn.feature_extraction.text import CountVectorizer

        vocabs = []
        for analyzer, ngrams, min_df in (("word", WORD_NGRAMS, word_min_df), ("char_wb", CHAR_NGRAMS, char_min_df)):
            vectorizer = CountVectorizer(analyzer=analyzer, ngram_range=ngrams, min_df=min_df, lowercase=True)
            counts = vectorizer.fit_transform(texts)
            df = np.bincount(counts.indices, minlength=counts.shape[1])
            idf = np.log((1 + len(texts)) / (1 + df)) + 1.0
            vocab = [None] * len(vectorizer.vocabulary_)
            for term, index in vectorizer.vocabulary_.items():
                vocab[index] = term
            vocabs.append((vocab, idf.astype(np.float32)))
        return cls(vocabs[0][0], vocabs[0][1], vocabs[1][0], vocabs[1][1])


@dataclass
class Views:
    multilingual: np.ndarray  # dense (n, dims + surface)
    english: sps.csr_matrix | None  # sparse (n, ngrams + dims + surface), None when not asked for
    emoji_count: list[int]
    emoji_sentiment: list[float | None]
    has_negation: list[bool]
    cues: np.ndarray  # (n, cues) 0/1, `empathy.text.cues.cue_names()` order


def build_views(
    texts: list[str], embedder: StaticEmbedder, ngrams: NgramVocab | None, english_rows: np.ndarray | None = None
) -> Views:
    """Both views; the English one (when `ngrams` is given) only for `english_rows` (a boolean mask; all rows
    when None), in their order: n-grams are the costly part and mean nothing for other languages."""
    dense, emoji_count, emoji_sentiment, negation = surface(texts)
    cues = cue_matrix(texts)
    multilingual = np.hstack([embedder.embed(texts) * STATIC_SCALE, dense, cues[:, feature_columns()]]).astype(
        np.float32
    )
    english = None
    if ngrams is not None:
        rows = np.arange(len(texts)) if english_rows is None else np.flatnonzero(english_rows)
        english = sps.hstack(
            [ngrams.transform([texts[i] for i in rows]), sps.csr_matrix(multilingual[rows])], format="csr"
        )
    return Views(multilingual, english, emoji_count, emoji_sentiment, negation, cues)
