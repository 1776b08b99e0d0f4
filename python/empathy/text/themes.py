"""Themes in what customers write, and which of them are emerging.

Texts are grouped by meaning, not by words: their multilingual embeddings (one vector per text, e.g. the text model's
`embedder.embed`) are L2-normalised and clustered with MiniBatchKMeans, so "entrega atrasada", "envío con retraso"
and "late delivery" can land in one theme. Each theme is then named by its most distinctive words, with a class-based
TF-IDF in the manner of BERTopic: the texts of a theme are one "class document", a word's frequency in it is weighed
against its frequency over all themes (`tf(t, c) * log(1 + A / f(t))`, A the mean number of words per theme). Two
deviations from BERTopic: a word counts once per text (a long call transcript repeating a product name does not name
the theme alone), and English, Spanish and Portuguese stop words are removed (the texts' language is not needed).

A theme is *emerging* when its share of the texts written in the last `recent_days` before `as_of` is at least
`min_growth` (1.5) times its share of the texts written before that window, and it has at least `min_recent` (20)
recent texts: a share, not a count, so a theme does not "emerge" because the company got more texts overall, and a
floor on the count, so three texts are not a trend. A theme absent from the earlier period that has enough recent
texts is emerging too (its growth ratio is null: undefined, not infinite). Without texts in the earlier period there
is nothing to compare with and no theme is flagged.

`find_themes` does the work once and returns both tables; `discover_themes` and `assign_themes` return one of them.
Clustering is deterministic for a given `seed` and input order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sps
from sklearn.cluster import MiniBatchKMeans
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

MIN_THEMES, MAX_THEMES, TEXTS_PER_THEME = 4, 30, 50  # default n_themes = clamp(round(sqrt(n / 50)), 4, 30)
MIN_GROWTH = 1.5
MIN_RECENT = 20
TOKEN_PATTERN = r"(?u)\b[^\W\d_]{2,}\b"  # words of two letters or more; no numbers


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


SPANISH_STOP_WORDS = _words(
    """
    a al algo algunos ante antes aqui aquí asi así aun aún bien cada como cómo con contra cual cuál cuando cuándo
    de del desde donde dónde dos el él ella ellas ellos en entre era eran es esa esas ese eso esos esta está estaba
    estaban estado estamos están estar estas este esto estos estoy fue fueron fui ha había han has hasta hay he
    hemos hice hizo la las le les lo los mas más me mi mí mis mucho muy nada ni no nos nosotros o os otra otro para
    pero poco por porque pues que qué quien quién se sea ser si sí sido siempre sin sobre solo sólo son soy su sus
    también tambien tan tanto te tener tengo ti tiene tienen todo todos tu tú tus un una unas uno unos usted ustedes
    va vamos van vez y ya yo
    """
)
PORTUGUESE_STOP_WORDS = _words(
    """
    a à ao aos aquela aquele aquilo as às até com como da das de dela dele deles depois do dos e é ela elas ele eles
    em entre era eram essa esse esta está estava estão estar estas este eu foi foram fui há isso isto já la lá lhe
    lhes mais mas me mesmo meu meus minha minhas muito na nao não nas nem no nos nós num numa o os ou para pela
    pelas pelo pelos por porque pra qual quando que quem se sem ser seu seus sim só sobre sua suas também tambem
    te tem têm tenho ter teu tinha to tu tua um uma umas uns vai vc você vocês vou
    """
)
STOP_WORDS = frozenset(ENGLISH_STOP_WORDS) | SPANISH_STOP_WORDS | PORTUGUESE_STOP_WORDS

THEME_SCHEMA = pa.schema(
    [
        pa.field("theme_id", pa.int32()),
        pa.field("theme_label", pa.string()),
        pa.field("top_terms", pa.list_(pa.string())),
        pa.field("n_texts", pa.int64()),
        pa.field("n_recent", pa.int64()),
        pa.field("n_earlier", pa.int64()),
        pa.field("share_recent", pa.float64()),
        pa.field("share_earlier", pa.float64()),
        pa.field("growth_ratio", pa.float64()),
        pa.field("is_emerging", pa.bool_()),
        pa.field("example_text", pa.string()),
    ]
)
ASSIGNMENT_SCHEMA = pa.schema(
    [
        pa.field("row", pa.int64()),  # position in the inputs
        pa.field("theme_id", pa.int32()),  # null: blank text or unusable embedding, not clustered
        pa.field("similarity", pa.float64()),  # cosine between the text's vector and its theme's centroid
    ]
)


@dataclass
class Themes:
    """What `find_themes` found: one row per theme, one row per input text, and the centroids to assign new texts."""

    themes: pa.Table  # THEME_SCHEMA, theme_id 0 = the largest theme
    assignments: pa.Table  # ASSIGNMENT_SCHEMA, one row per input text, in input order
    centroids: np.ndarray  # (n_themes, dims) float32, unit length, row i = theme_id i

    def assign(self, embeddings: np.ndarray) -> pa.Table:
        """Themes of new texts' embeddings: the nearest centroid by cosine (`ASSIGNMENT_SCHEMA`)."""
        x, usable = _unit_rows(_matrix(embeddings, len(embeddings), self.centroids.shape[1]))
        return _assignments(x, usable, self.centroids)


# -- input ---------------------------------------------------------------------------------------------------------
def _matrix(embeddings: Any, n: int, dims: int | None = None) -> np.ndarray:
    x = np.asarray(embeddings, dtype=np.float32)
    if x.ndim == 1 and x.size == 0:
        x = x.reshape(0, dims or 0)
    if x.ndim != 2:
        raise ValueError(f"embeddings must be a 2-D matrix (one row per text), got shape {x.shape}")
    if x.shape[0] != n:
        raise ValueError(f"embeddings have {x.shape[0]} rows but there are {n} texts: rows must align with texts")
    if dims is not None and x.shape[0] and x.shape[1] != dims:
        raise ValueError(f"embeddings have {x.shape[1]} dimensions, the themes {dims}")
    return x


def _unit_rows(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows scaled to unit length, and which rows are usable (finite and not all zero)."""
    finite = np.isfinite(x).all(axis=1) if x.size else np.zeros(len(x), dtype=bool)
    safe = np.where(finite[:, None], x, 0.0).astype(np.float32)
    norms = np.linalg.norm(safe, axis=1)
    usable = finite & (norms > 0)
    return safe / np.where(usable, norms, 1.0)[:, None], usable


def _texts(texts: Any) -> pa.Array:
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    array = texts if isinstance(texts, pa.Array) else pa.array(list(texts), type=pa.string())
    if pa.types.is_null(array.type):
        return pa.nulls(len(array), pa.string())
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        raise ValueError(f"texts must be strings, got {array.type}")
    return pc.fill_null(array.cast(pa.string()), "")


def _times(occurred_at: Any, n: int) -> np.ndarray:
    """datetime64[us] (naive UTC; NaT where missing) from Arrow, numpy or a sequence of datetimes."""
    if isinstance(occurred_at, np.ndarray) and np.issubdtype(occurred_at.dtype, np.datetime64):
        times = occurred_at.astype("datetime64[us]")
    else:
        if isinstance(occurred_at, pa.ChunkedArray):
            occurred_at = occurred_at.combine_chunks()
        array = occurred_at if isinstance(occurred_at, pa.Array) else pa.array(list(occurred_at))
        if pa.types.is_null(array.type):
            array = pa.nulls(len(array), pa.timestamp("us"))
        if not (pa.types.is_timestamp(array.type) or pa.types.is_date(array.type)):
            raise ValueError(f"occurred_at must hold timestamps or dates, got {array.type}")
        times = array.cast(pa.timestamp("us")).to_numpy(zero_copy_only=False).astype("datetime64[us]")
    if len(times) != n:
        raise ValueError(f"occurred_at has {len(times)} values but there are {n} texts")
    return times


def _instant(value: Any) -> np.datetime64:
    if isinstance(value, pa.Scalar):
        value = value.as_py()
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    elif isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    return np.datetime64(value, "us")


def _days(days: float) -> np.timedelta64:
    return np.timedelta64(round(days * 86400e6), "us")


# -- clustering and naming -----------------------------------------------------------------------------------------
def default_n_themes(n: int) -> int:
    """clamp(round(sqrt(n / 50)), 4, 30): ~50 texts a theme for small sets, growing slowly, never over 30."""
    return int(min(MAX_THEMES, max(MIN_THEMES, round(math.sqrt(n / TEXTS_PER_THEME)))))


def _cluster(x: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Unit centroids of `x`'s (unit) rows, largest cluster first, none empty.

    Identical vectors (repeated texts: "ok", "thanks") are clustered once with their count as weight, which also
    keeps k no larger than the number of distinct vectors. After MiniBatchKMeans, every text goes to the centroid
    nearest by cosine (the same rule `Themes.assign` uses for new texts), and clusters left empty are dropped.
    """
    rows = np.ascontiguousarray(x).view(np.dtype((np.void, x.dtype.itemsize * x.shape[1]))).ravel()
    _, first, counts = np.unique(rows, return_index=True, return_counts=True)
    distinct = x[np.sort(first)] if len(first) else x[:0]
    counts = counts[np.argsort(first)]  # input order, so the result does not depend on np.unique's byte order
    k = max(1, min(k, len(distinct)))
    km = MiniBatchKMeans(n_clusters=k, random_state=seed, n_init=3, batch_size=1024)
    km.fit(distinct, sample_weight=counts.astype(np.float64))
    centroids = km.cluster_centers_.astype(np.float32)
    centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
    sizes = np.bincount((x @ centroids.T).argmax(axis=1), minlength=k)
    order = [c for c in np.argsort(-sizes, kind="stable") if sizes[c] > 0]
    return centroids[order]


def _assignments(x: np.ndarray, usable: np.ndarray, centroids: np.ndarray) -> pa.Table:
    n = len(x)
    theme = np.full(n, -1, dtype=np.int64)
    similarity = np.full(n, np.nan)
    if usable.any() and len(centroids):
        sims = x[usable] @ centroids.T
        theme[usable] = sims.argmax(axis=1)
        similarity[usable] = sims.max(axis=1)
    missing = theme < 0
    return pa.table(
        {
            "row": pa.array(np.arange(n, dtype=np.int64)),
            "theme_id": pa.array(theme.astype(np.int32), mask=missing),
            "similarity": pa.array(similarity, mask=missing),
        },
        schema=ASSIGNMENT_SCHEMA,
    )


def class_tfidf_terms(texts: list[str], labels: np.ndarray, k: int, top_terms: int) -> list[list[str]]:
    """The `top_terms` most distinctive words of each of the `k` clusters (c-TF-IDF; see the module docstring)."""
    if top_terms <= 0 or not texts:
        return [[] for _ in range(k)]
    vectorizer = CountVectorizer(
        lowercase=True, binary=True, token_pattern=TOKEN_PATTERN, stop_words=sorted(STOP_WORDS)
    )
    try:
        counts = vectorizer.fit_transform(texts)
    except ValueError:  # no word at all (emoji, numbers, stop words only)
        return [[] for _ in range(k)]
    membership = sps.csr_matrix((np.ones(len(labels)), (labels, np.arange(len(labels)))), shape=(k, len(texts)))
    tf = np.asarray((membership @ counts).todense(), dtype=np.float64)  # (k, vocabulary): texts with the word
    words_per_cluster = tf.sum(axis=1, keepdims=True)
    frequency = tf.sum(axis=0)
    idf = np.log1p(words_per_cluster.mean() / np.maximum(frequency, 1.0))
    scores = tf / np.maximum(words_per_cluster, 1.0) * idf
    vocabulary = vectorizer.get_feature_names_out()
    terms = []
    for row in scores:
        best = np.argsort(-row, kind="stable")[:top_terms]  # ties: alphabetical
        terms.append([str(vocabulary[j]) for j in best if row[j] > 0])
    return terms


# -- the public functions ------------------------------------------------------------------------------------------
def find_themes(
    texts: Sequence[str | None] | pa.Array | pa.ChunkedArray,
    embeddings: np.ndarray,
    occurred_at: Any,
    *,
    n_themes: int | None = None,
    recent_days: float = 28,
    as_of: datetime | date | np.datetime64 | None = None,
    seed: int = 0,
    top_terms: int = 5,
    earlier_days: float | None = None,
    min_growth: float = MIN_GROWTH,
    min_recent: int = MIN_RECENT,
) -> Themes:
    """Cluster the texts' embeddings into themes, name them, and flag the emerging ones.

    texts: one per row of `embeddings` (a float matrix, any width); occurred_at: when each was written (Arrow
    timestamps, numpy datetime64 or datetimes; naive values are UTC). n_themes: the number of clusters (default
    `default_n_themes(n)`), never more than the distinct vectors. Blank texts and zero or non-finite vectors are not
    clustered (their theme_id is null) and not counted.

    Windows: recent = [as_of - recent_days, as_of); earlier = everything before it (or the `earlier_days` before it).
    as_of defaults to just after the latest text. Texts at or after as_of, or without a date, belong to a theme
    (n_texts) but to neither window (n_recent, n_earlier). share_* = the theme's texts in the window / all clustered
    texts in the window (null when the window is empty); growth_ratio = share_recent / share_earlier (null when
    share_earlier is 0 or null); is_emerging as in the module docstring. example_text is the theme's text closest
    to its centroid; theme_label is its top terms joined with ', ' ('theme <id>' for a theme without any word).
    """
    if n_themes is not None and n_themes < 1:
        raise ValueError(f"n_themes must be at least 1, got {n_themes}")
    if recent_days <= 0:
        raise ValueError(f"recent_days must be positive, got {recent_days}")
    text_array = _texts(texts)
    n = len(text_array)
    x, usable = _unit_rows(_matrix(embeddings, n))
    times = _times(occurred_at, n)
    usable &= pc.greater(pc.utf8_length(pc.utf8_trim_whitespace(text_array)), 0).to_numpy(zero_copy_only=False)
    if not usable.any():
        centroids = np.zeros((0, x.shape[1]), dtype=np.float32)
        return Themes(THEME_SCHEMA.empty_table(), _assignments(x, usable, centroids), centroids)

    k = n_themes or default_n_themes(int(usable.sum()))
    centroids = _cluster(x[usable], k, seed)
    k = len(centroids)
    assignments = _assignments(x, usable, centroids)
    theme = assignments["theme_id"].fill_null(-1).to_numpy()
    similarity = assignments["similarity"].fill_null(np.nan).to_numpy()
    labels = theme[usable]

    # windows
    valid_times = times[usable & ~np.isnat(times)]
    if as_of is not None:
        end = _instant(as_of)
    else:  # just after the latest text; NaT without any date, and then both windows are empty
        end = valid_times.max() + np.timedelta64(1, "us") if len(valid_times) else np.datetime64("NaT", "us")
    start = end - _days(recent_days)
    known = ~np.isnat(times)
    recent = usable & known & (times >= start) & (times < end)
    earlier = usable & known & (times < start)
    if earlier_days is not None:
        earlier &= times >= start - _days(earlier_days)
    n_texts = np.bincount(labels, minlength=k)
    n_recent = np.bincount(theme[recent], minlength=k)
    n_earlier = np.bincount(theme[earlier], minlength=k)
    total_recent, total_earlier = int(recent.sum()), int(earlier.sum())
    share_recent = n_recent / total_recent if total_recent else np.full(k, np.nan)
    share_earlier = n_earlier / total_earlier if total_earlier else np.full(k, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        growth = np.where(share_earlier > 0, share_recent / share_earlier, np.nan)
    emerging = (
        (total_earlier > 0)
        & (n_recent >= min_recent)
        & ((n_earlier == 0) | (np.nan_to_num(growth, nan=0.0) >= min_growth))
    )

    # names and examples
    clustered = np.flatnonzero(usable)
    words = class_tfidf_terms(pc.take(text_array, pa.array(clustered)).to_pylist(), labels, k, top_terms)
    nearest = [clustered[labels == c][np.argmax(similarity[clustered][labels == c])] for c in range(k)]
    examples = pc.take(text_array, pa.array(nearest, type=pa.int64()))
    themes = pa.table(
        {
            "theme_id": pa.array(np.arange(k, dtype=np.int32)),
            "theme_label": [", ".join(w) if w else f"theme {c}" for c, w in enumerate(words)],
            "top_terms": pa.array(words, type=pa.list_(pa.string())),
            "n_texts": pa.array(n_texts, type=pa.int64()),
            "n_recent": pa.array(n_recent, type=pa.int64()),
            "n_earlier": pa.array(n_earlier, type=pa.int64()),
            "share_recent": pa.array(share_recent, mask=np.isnan(share_recent), type=pa.float64()),
            "share_earlier": pa.array(share_earlier, mask=np.isnan(share_earlier), type=pa.float64()),
            "growth_ratio": pa.array(growth, mask=np.isnan(growth), type=pa.float64()),
            "is_emerging": pa.array(emerging, type=pa.bool_()),
            "example_text": examples,
        },
        schema=THEME_SCHEMA,
    )
    return Themes(themes, assignments, centroids)


def discover_themes(
    texts: Sequence[str | None] | pa.Array | pa.ChunkedArray,
    embeddings: np.ndarray,
    occurred_at: Any,
    *,
    n_themes: int | None = None,
    recent_days: float = 28,
    as_of: datetime | date | np.datetime64 | None = None,
    seed: int = 0,
    top_terms: int = 5,
    **options: Any,
) -> pa.Table:
    """One row per theme (`THEME_SCHEMA`); see `find_themes`. Empty input gives an empty, typed table."""
    return find_themes(
        texts,
        embeddings,
        occurred_at,
        n_themes=n_themes,
        recent_days=recent_days,
        as_of=as_of,
        seed=seed,
        top_terms=top_terms,
        **options,
    ).themes


def assign_themes(
    texts: Sequence[str | None] | pa.Array | pa.ChunkedArray,
    embeddings: np.ndarray,
    occurred_at: Any,
    **options: Any,
) -> pa.Table:
    """One row per input text (`ASSIGNMENT_SCHEMA`): its theme in `discover_themes` with the same arguments.

    Needing both tables, call `find_themes` once: this function clusters again (same seed, same result).
    """
    return find_themes(texts, embeddings, occurred_at, **options).assignments


__all__ = [
    "ASSIGNMENT_SCHEMA",
    "STOP_WORDS",
    "THEME_SCHEMA",
    "Themes",
    "assign_themes",
    "class_tfidf_terms",
    "default_n_themes",
    "discover_themes",
    "find_themes",
]
