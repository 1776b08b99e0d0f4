"""Learning from the company's own ratings: domain- and language-specific sentiment models.

Reviews (1-5 stars) and survey comments (NPS 0-10, CSAT 1-5) come with the customer's own verdict. Where there are
enough of them, a sentiment model fitted on the company's own texts usually beats the generic one: it learns the
products' names, the sector's jargon and how these customers write. Whether it does is measured, not assumed:

1. the rated texts are split by time: the newest ~`test_fraction` are the test part and every test row is strictly
   newer than every training row (one cutoff for all languages, so the pooled model and the per-language models are
   judged on the same unseen future);
2. per language, a classifier is fitted on the older part and both it and the generic model's `generic_label` are
   scored on the newer part (3-class macro-F1 with the labels fixed to negative/neutral/positive, and accuracy);
3. the better by macro-F1 is chosen per language; ties go to the generic model (it needs no upkeep);
4. the chosen domain models are refitted on all the rated rows of their language for scoring. The figures reported
   by `evaluations()` are those of the time-split fit, i.e. an honest estimate of how the refitted model does on
   texts it has not seen: macro-F1, accuracy, and the polarity AUC of the sentiment score beside that of a char
   n-gram TF-IDF logistic regression fitted on the same older rows (`empathy.text.baseline`);
5. the rated texts themselves are never scored by a model that saw them: they are cut into `FOLDS` blocks by time
   and each block is scored by a model fitted, with the same C, on the other blocks (`empathy.text.crossfit`).
   Every other text is scored by the refitted model.

A language with fewer than `min_train` older or `min_test` newer rated texts gets no model of its own. When it still
has `min_test` newer texts to judge on, the pooled model (`'all'`: every language's older rows) is evaluated on them
instead and may be chosen (`domain:all`); with fewer, there is nothing to judge on and the generic model stays.
Languages without rated texts keep the generic model: nothing says a company model would do better there.

The classifier reads no dictionary and no tokeniser of any language: hashed word 1-2 grams and char_wb 2-5 grams
(2**17 buckets each), sublinear tf-idf, the columns the training texts reach, and a class-balanced multinomial logistic regression, whose C is picked from
a small grid on a second time split inside the training part. Everything is deterministic.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sps
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.pipeline import FeatureUnion, Pipeline

from empathy.text.baseline import baseline_scores, polarity_auc
from empathy.text.crossfit import NOT_TRAINED_ON, CrossFit, cross_fit
from empathy.text.schema import SENTIMENT_LABELS

POOLED = "all"  # the language key of the model fitted on every language
UNDETERMINED = "und"
DOMAIN, GENERIC = "domain", "generic"
HASH_BUCKETS = 2**17  # per analyser: word and char_wb, so 2**18 features in all
C_GRID = (0.5, 2.0, 8.0)  # tried on the inner time split; ties go to the smaller (stronger regularisation)
DEFAULT_C = 2.0  # when the training part is too small to tune on
INNER_VALIDATION = 0.2  # share of the training part (its newest rows) used to pick C
MIN_INNER_VALIDATION = 30
MAX_ITER = 2000
FOLDS = 5  # time blocks of the rated texts for cross-fitted scores

REQUIRED_COLUMNS: dict[str, str] = {
    "text": "the rated text (string)",
    "language": "ISO 639-1 code from the generic model (string; null counts as 'und')",
    "occurred_at": "when the text was written (timestamp or date)",
    "rating_label": "the customer's rating mapped to negative/neutral/positive (see rating_to_label)",
    "generic_label": "the generic model's sentiment_label for the text (negative/neutral/positive)",
}
OPTIONAL_COLUMNS: dict[str, str] = {
    "generic_score": "the generic model's sentiment_score for the text (float, -1 to 1): gives generic_auc",
}

EVALUATION_SCHEMA = pa.schema(
    [
        pa.field("language", pa.string()),
        pa.field("n_train", pa.int64()),
        pa.field("n_test", pa.int64()),
        pa.field("train_start", pa.timestamp("us")),
        pa.field("train_end", pa.timestamp("us")),
        pa.field("test_start", pa.timestamp("us")),
        pa.field("test_end", pa.timestamp("us")),
        pa.field("generic_macro_f1", pa.float64()),
        pa.field("domain_macro_f1", pa.float64()),
        pa.field("generic_accuracy", pa.float64()),
        pa.field("domain_accuracy", pa.float64()),
        pa.field("generic_auc", pa.float64()),
        pa.field("domain_auc", pa.float64()),
        pa.field("baseline_auc", pa.float64()),
        pa.field("chosen_model", pa.string()),
        pa.field("domain_model", pa.string()),
        pa.field("reason", pa.string()),
    ]
)
SCORE_SCHEMA = pa.schema(
    [
        pa.field("sentiment_score", pa.float64()),
        pa.field("sentiment_label", pa.string()),
        pa.field("sentiment_intensity", pa.float64()),
        pa.field("sentiment_model", pa.string()),
    ]
)


# -- ratings -----------------------------------------------------------------------------------------------------
# source -> (lowest valid score, highest valid score, highest negative score, lowest positive score)
RATING_SCALES: dict[str, tuple[float, float, float, float]] = {
    "review": (1, 5, 2, 4),  # stars: 1-2 negative, 3 neutral, 4-5 positive
    "nps": (0, 10, 6, 9),  # 0-6 detractor, 7-8 passive, 9-10 promoter
    "csat": (1, 5, 2, 4),  # 1-2 unsatisfied, 3 neutral, 4-5 satisfied
}
SOURCE_ALIASES = {"survey_nps": "nps", "survey_csat": "csat", "reviews": "review"}


def rating_to_label(source: str, score: float | None) -> str | None:
    """The sentiment a customer's own rating expresses: 'negative', 'neutral' or 'positive'.

    review stars 1-2 negative, 3 neutral, 4-5 positive; NPS 0-6 negative, 7-8 neutral, 9-10 positive; CSAT 1-2
    negative, 3 neutral, 4-5 positive. `source` is 'review', 'nps' or 'csat' ('survey_nps' and 'survey_csat' are
    accepted too). Fractional scores fall on the side of the thresholds they are on (4.5 stars is positive, 2.5 is
    neutral). A missing score, or one outside the scale, has no label (None): that text is not used for training.
    """
    key = SOURCE_ALIASES.get(str(source).strip().lower(), str(source).strip().lower())
    if key not in RATING_SCALES:
        known = sorted([*RATING_SCALES, *SOURCE_ALIASES])
        raise ValueError(f"unknown rating source {source!r}: expected one of {', '.join(known)}")
    if score is None or isinstance(score, bool):
        return None
    value = float(score)
    low, high, negative_max, positive_min = RATING_SCALES[key]
    if math.isnan(value) or not low <= value <= high:
        return None
    if value <= negative_max:
        return "negative"
    if value >= positive_min:
        return "positive"
    return "neutral"


# -- input ---------------------------------------------------------------------------------------------------------
def _as_table(data: Any) -> pa.Table:
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    if hasattr(data, "to_pyarrow"):  # ibis
        return data.to_pyarrow()
    if hasattr(data, "to_arrow"):  # polars, duckdb relations
        return data.to_arrow()
    if hasattr(data, "columns") and hasattr(data, "iloc"):  # pandas
        return pa.Table.from_pandas(data, preserve_index=False)
    if isinstance(data, dict):
        return pa.table(data)
    raise ValueError(
        f"domain sentiment input must be a pyarrow Table (or a DataFrame or dict of columns), not {type(data).__name__}"
    )


def _column(table: pa.Table, name: str) -> pa.Array:
    column = table.column(name)
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


def _strings(table: pa.Table, name: str) -> pa.Array:
    column = _column(table, name)
    if pa.types.is_null(column.type):
        return pa.nulls(len(column), pa.string())
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        raise ValueError(f"column {name!r} must hold strings ({REQUIRED_COLUMNS[name]}), got {column.type}")
    return column.cast(pa.string())


def _timestamps(values: pa.Array, name: str) -> pa.Array:
    """Timestamps as naive UTC microseconds (a zoned timestamp keeps its instant; a date is its midnight)."""
    if pa.types.is_null(values.type):
        return pa.nulls(len(values), pa.timestamp("us"))
    if not (pa.types.is_timestamp(values.type) or pa.types.is_date(values.type)):
        raise ValueError(f"column {name!r} must hold timestamps or dates, got {values.type}")
    return values.cast(pa.timestamp("us"))


def _normalised_languages(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Trimmed, lower-cased codes; null or blank is 'und' (undetermined), as the generic model says."""
    language = pc.fill_null(pc.utf8_lower(pc.utf8_trim_whitespace(values)), UNDETERMINED)
    return pc.if_else(pc.equal(language, ""), UNDETERMINED, language)


def _numpy_strings(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=str)


def _check_labels(values: pa.Array, name: str) -> None:
    bad = pc.unique(pc.filter(values, pc.invert(pc.is_in(values, pa.array(SENTIMENT_LABELS))))).drop_null()
    if len(bad):
        shown = ", ".join(repr(v) for v in bad.to_pylist()[:5])
        raise ValueError(f"column {name!r} holds {shown}: expected one of {', '.join(SENTIMENT_LABELS)} (or null)")


@dataclass
class _Rows:
    texts: list[str]
    language: np.ndarray  # str
    time: np.ndarray  # datetime64[us]
    rating: np.ndarray  # str
    generic: np.ndarray  # str; '' where the generic model gave no label (counted as wrong)
    generic_score: np.ndarray  # float; NaN where not given


def _prepare(data: Any) -> _Rows:
    table = _as_table(data)
    missing = [c for c in REQUIRED_COLUMNS if c not in table.column_names]
    if missing:
        expected = "; ".join(f"{c}: {d}" for c, d in REQUIRED_COLUMNS.items())
        raise ValueError(f"domain sentiment input lacks column(s) {', '.join(missing)}. Expected columns: {expected}")
    text = _strings(table, "text")
    language = _normalised_languages(_strings(table, "language"))
    time = _timestamps(_column(table, "occurred_at"), "occurred_at")
    rating = _strings(table, "rating_label")
    generic = _strings(table, "generic_label")
    _check_labels(rating, "rating_label")
    _check_labels(generic, "generic_label")
    generic_score = _floats(table, "generic_score")
    # nothing to learn from a text without a rating, without words or without a date to place it in time
    keep = pc.and_(
        pc.and_(pc.is_valid(rating), pc.is_valid(time)),
        pc.fill_null(pc.greater(pc.utf8_length(pc.utf8_trim_whitespace(text)), 0), False),
    )
    return _Rows(
        texts=pc.filter(text, keep).to_pylist(),
        language=_numpy_strings(pc.filter(language, keep)),
        time=pc.filter(time, keep).to_numpy(zero_copy_only=False).astype("datetime64[us]"),
        rating=_numpy_strings(pc.filter(rating, keep)),
        generic=_numpy_strings(pc.fill_null(pc.filter(generic, keep), "")),
        generic_score=pc.filter(generic_score, keep).to_numpy(zero_copy_only=False).astype(np.float64),
    )


def _floats(table: pa.Table, name: str) -> pa.Array:
    """An optional numeric column as float64 with NaN for nulls (all NaN when the column is absent)."""
    if name not in table.column_names:
        return pa.array(np.full(table.num_rows, np.nan))
    column = _column(table, name)
    if not (pa.types.is_floating(column.type) or pa.types.is_integer(column.type) or pa.types.is_null(column.type)):
        raise ValueError(f"column {name!r} must hold numbers ({OPTIONAL_COLUMNS[name]}), got {column.type}")
    return pc.fill_null(column.cast(pa.float64()), np.nan)


# -- the split, the features, the classifier ------------------------------------------------------------------------
def time_split(occurred_at: np.ndarray, test_fraction: float) -> np.ndarray:
    """The test mask: the newest ~`test_fraction` of rows, every one strictly newer than every training row.

    The cutoff is the time of the row at the (1 - test_fraction) quantile; rows at the cutoff go to the test part
    (so ties never straddle it) and the test part may be a little larger than asked.
    """
    times = np.asarray(occurred_at)
    n = len(times)
    if n == 0:
        return np.zeros(0, dtype=bool)
    n_test = min(n, max(1, math.ceil(n * test_fraction)))
    cutoff = np.sort(times)[n - n_test]
    return times >= cutoff


def _hasher() -> FeatureUnion:
    def hashing(analyzer: str, ngrams: tuple[int, int]) -> HashingVectorizer:
        return HashingVectorizer(
            analyzer=analyzer,
            ngram_range=ngrams,
            n_features=HASH_BUCKETS,
            alternate_sign=False,
            norm=None,
            lowercase=True,
            dtype=np.float64,
        )

    return FeatureUnion([("word", hashing("word", (1, 2))), ("char", hashing("char_wb", (2, 5)))])


def _features(texts: list[str]) -> sps.csr_matrix:
    """Hashed word and char n-gram counts: stateless, so computed once and shared by every fit."""
    return sps.csr_matrix(_hasher().transform(texts))


class ActiveColumns(TransformerMixin, BaseEstimator):
    """Keeps the columns that hold a value in the training rows.

    A hashed column no training text reaches would get a zero weight anyway (its gradient is zero under the L2
    penalty), so dropping it changes no prediction; it makes the solver ~50x faster (L-BFGS over 3 x 2**18
    weights is slow however sparse the data) and the stored model small. It sits after the tf-idf step, so a
    text's norm still counts all its n-grams.
    """

    def fit(self, x, y=None):
        self.columns_ = np.unique(sps.csr_matrix(x).indices)
        return self

    def transform(self, x):
        return sps.csr_matrix(x)[:, self.columns_]


def _classifier(c: float, seed: int) -> Pipeline:
    return Pipeline(
        [
            ("tfidf", TfidfTransformer(sublinear_tf=True)),
            ("active", ActiveColumns()),
            (
                "clf",
                LogisticRegression(C=c, class_weight="balanced", max_iter=MAX_ITER, random_state=seed),
            ),
        ]
    )


def _proba(model: Pipeline, x: sps.csr_matrix) -> np.ndarray:
    """P(negative, neutral, positive) per row; a class absent from the training rows gets 0."""
    out = np.zeros((x.shape[0], len(SENTIMENT_LABELS)))
    p = model.predict_proba(x)
    for j, label in enumerate(model.classes_):
        out[:, SENTIMENT_LABELS.index(label)] = p[:, j]
    return out


def _predict(model: Pipeline, x: sps.csr_matrix) -> np.ndarray:
    return np.asarray(SENTIMENT_LABELS)[_proba(model, x).argmax(axis=1)]


def _macro_f1(truth: np.ndarray, predicted: np.ndarray) -> float:
    return float(f1_score(truth, predicted, labels=list(SENTIMENT_LABELS), average="macro", zero_division=0.0))


def _tune_c(x: sps.csr_matrix, y: np.ndarray, time: np.ndarray, seed: int) -> float:
    """C by macro-F1 on the newest `INNER_VALIDATION` of the training part (ties: the smaller C)."""
    validation = time_split(time, INNER_VALIDATION)
    inner = ~validation
    if validation.sum() < MIN_INNER_VALIDATION or len(np.unique(y[inner])) < 2:
        return DEFAULT_C
    scores = [
        _macro_f1(y[validation], _predict(_classifier(c, seed).fit(x[inner], y[inner]), x[validation])) for c in C_GRID
    ]
    return C_GRID[int(np.argmax(scores))]  # argmax keeps the first (smallest) of equal scores


def _fit(x: sps.csr_matrix, y: np.ndarray, c: float, seed: int) -> Pipeline:
    return _classifier(c, seed).fit(x, y)


# -- the fitted models ----------------------------------------------------------------------------------------------
@dataclass
class DomainSentiment:
    """The company's sentiment models and how they compared with the generic model.

    `models` maps a model key (a language code, or 'all' for the pooled model) to a classifier refitted on every
    rated row of that key; `routes` maps each language whose chosen model is the domain one to its model key;
    `crossfits` holds, per model key, the fold models that score the rated texts the refitted model saw.
    """

    models: dict[str, Pipeline] = field(default_factory=dict)
    routes: dict[str, str] = field(default_factory=dict)
    cutoff: datetime | None = None
    params: dict[str, float] = field(default_factory=dict)  # model key -> C
    crossfits: dict[str, CrossFit] = field(default_factory=dict)  # model key -> the fold models of its rated texts
    _evaluations: pa.Table = field(default_factory=EVALUATION_SCHEMA.empty_table)

    def evaluations(self) -> pa.Table:
        """One row per language (and one for the pooled model, language 'all'): `EVALUATION_SCHEMA`.

        n_train/n_test and the time ranges are the language's own rated texts on each side of the cutoff; the
        macro-F1 and accuracy figures are on its test part (null where there was nothing to score, or no domain
        model). generic_auc, domain_auc and baseline_auc are the polarity AUCs (`baseline.polarity_auc`) of the
        generic model's score, the company model's and the char n-gram baseline's (fitted on the same older rows)
        on the same newer texts; null where not computable. `domain_model` names the model evaluated ('domain:<language>' or 'domain:all'); `chosen_model`
        says which model scores the language's texts ('domain' or 'generic'). The 'all' row compares the pooled
        model with the generic one over every language's newer texts; its `chosen_model` is 'domain' only when it
        scores some language (named in `reason`), so 'domain' always means "used for scoring".
        """
        return self._evaluations

    def model_name(self, language: str) -> str | None:
        key = self.routes.get(language)
        return None if key is None else f"{DOMAIN}:{key}"

    def score(self, texts: Sequence[str | None], languages: Sequence[str | None]) -> pa.Table:
        """`SCORE_SCHEMA` rows aligned with `texts`: values only where the text's language chose a domain model.

        sentiment_score = P(positive) - P(negative), in [-1, 1]; sentiment_label = the most probable class;
        sentiment_intensity = max(P(positive), P(negative)), in [0, 1]: 0 when surely neutral, 1 when surely
        positive or surely negative (already on the 0-1 scale, no rescaling needed); sentiment_model =
        'domain:<key>'. Every column is null for other languages and for blank texts, where the generic model's
        values stand. A text the refitted model was fitted on is scored by the fold model that did not see it
        (cross-fitting, see `empathy.text.crossfit`), so no published score comes from a model that learnt it.
        """
        text_array = pa.array(texts, type=pa.string()) if not isinstance(texts, pa.Array | pa.ChunkedArray) else texts
        lang_array = (
            pa.array(languages, type=pa.string())
            if not isinstance(languages, pa.Array | pa.ChunkedArray)
            else languages
        )
        if len(text_array) != len(lang_array):
            raise ValueError(f"score() got {len(text_array)} texts but {len(lang_array)} languages")
        n = len(text_array)
        score = np.full(n, np.nan)
        label = np.full(n, None, dtype=object)
        intensity = np.full(n, np.nan)
        name = np.full(n, None, dtype=object)
        if n == 0 or not self.routes:
            return _score_table(score, label, intensity, name)
        text_array = pc.fill_null(text_array.cast(pa.string()), "")
        lang = _numpy_strings(_normalised_languages(lang_array.cast(pa.string())))
        blank = pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(text_array)), 0).to_numpy(zero_copy_only=False)
        key = np.full(n, "", dtype=object)
        for language, model_key in self.routes.items():
            key[lang == language] = model_key
        wanted = (key != "") & ~blank
        if not wanted.any():
            return _score_table(score, label, intensity, name)
        rows = np.flatnonzero(wanted)
        wanted_texts = pc.take(text_array, pa.array(rows)).to_pylist()
        x = _features(wanted_texts)
        for model_key in self.models:
            mine = np.flatnonzero(key[rows] == model_key)
            for model, part in self._scorers(model_key, [wanted_texts[i] for i in mine]):
                p = _proba(model, x[mine[part]])
                at = rows[mine[part]]
                negative, positive = p[:, 0], p[:, 2]
                score[at] = positive - negative
                label[at] = np.asarray(SENTIMENT_LABELS)[p.argmax(axis=1)]
                intensity[at] = np.maximum(positive, negative)
                name[at] = f"{DOMAIN}:{model_key}"
        return _score_table(score, label, intensity, name)

    def _scorers(self, model_key: str, texts: list[str]) -> list[tuple[Pipeline, np.ndarray]]:
        """(model, row mask) pairs covering `texts`: a text the model was fitted on goes to the fold model that
        did not see it, any other text to the refitted model. A fold without a model leaves its texts unscored."""
        if not texts:
            return []
        crossfit = self.crossfits.get(model_key)
        folds = crossfit.folds(texts) if crossfit else np.full(len(texts), NOT_TRAINED_ON)
        out = []
        for fold in np.unique(folds):
            model = self.models[model_key] if fold == NOT_TRAINED_ON else crossfit.models[fold]
            if model is not None:
                out.append((model, folds == fold))
        return out


def _score_table(score: np.ndarray, label: np.ndarray, intensity: np.ndarray, name: np.ndarray) -> pa.Table:
    null = np.isnan(score)
    return pa.table(
        {
            "sentiment_score": pa.array(score, mask=null, type=pa.float64()),
            "sentiment_label": pa.array(label, type=pa.string()),
            "sentiment_intensity": pa.array(intensity, mask=null, type=pa.float64()),
            "sentiment_model": pa.array(name, type=pa.string()),
        },
        schema=SCORE_SCHEMA,
    )


# -- fitting -------------------------------------------------------------------------------------------------------
def _span(times: np.ndarray) -> tuple[datetime | None, datetime | None]:
    return (times.min().item(), times.max().item()) if len(times) else (None, None)


def _shortage(n_train: int, n_test: int, classes: int, min_train: int, min_test: int) -> str | None:
    """Why rows cannot make (or judge) a model; None when they can."""
    problems = []
    if n_train < min_train:
        problems.append(f"{n_train} older rated texts < min_train {min_train}")
    if n_test < min_test:
        problems.append(f"{n_test} newer rated texts < min_test {min_test}")
    if n_train and classes < 2:
        problems.append("the older rated texts carry a single rating label")
    return "; ".join(problems) or None


def _auc_note(domain_auc: float | None, baseline_auc: float | None) -> str:
    """The out-of-time AUCs in words, for `reason`."""
    if domain_auc is None:
        return "; no out-of-time AUC (the newer texts are not rated both positive and negative)"
    if baseline_auc is None:
        return f"; out-of-time AUC {domain_auc:.3f} (the char n-gram baseline could not be fitted)"
    verdict = "beats" if domain_auc > baseline_auc else "does not beat"
    return f"; out-of-time AUC {domain_auc:.3f} {verdict} the char n-gram baseline's {baseline_auc:.3f}"


def fit_domain_sentiment(
    table: Any,
    *,
    test_fraction: float = 0.25,
    min_train: int = 200,
    min_test: int = 50,
    seed: int = 0,
    refit: bool = True,
) -> DomainSentiment:
    """Fit, judge and choose the company's sentiment models from rated texts (see the module docstring).

    `table` holds text, language, occurred_at, rating_label and generic_label, and may hold generic_score (for
    generic_auc; a `source` column may be there and is not needed: the rating is already mapped, see
    `rating_to_label`). Rows without a rating label, a date or any non-blank text are left out. Returns a
    `DomainSentiment`; with no usable rows it has no models and empty, typed evaluations. `refit=False` stops after
    the evaluations (no models to score with: for benchmarks).
    """
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be between 0 and 1 (exclusive), got {test_fraction}")
    if min_train < 1 or min_test < 1:
        raise ValueError(f"min_train and min_test must be at least 1, got {min_train} and {min_test}")
    rows = _prepare(table)
    n = len(rows.texts)
    if n == 0:
        return DomainSentiment()
    test = time_split(rows.time, test_fraction)
    train = ~test
    cutoff = rows.time[test].min().astype(datetime)
    x = _features(rows.texts)

    fitted: dict[str, tuple[Pipeline, float]] = {}  # model key -> (time-split fit, C)
    # keyed by the rows: with a single language the pooled model's rows are that language's, fitted once
    fits_by_rows: dict[bytes, tuple[Pipeline, float]] = {}
    baselines: dict[bytes, np.ndarray] = {}  # the baseline's scores of the rows' newer part (NaN elsewhere)

    def split_fit(key: str, mask: np.ndarray) -> tuple[Pipeline, float]:
        on = mask & train
        if on.tobytes() not in fits_by_rows:
            c = _tune_c(x[on], rows.rating[on], rows.time[on], seed)
            fits_by_rows[on.tobytes()] = (_fit(x[on], rows.rating[on], c, seed), c)
        fitted[key] = fits_by_rows[on.tobytes()]
        return fitted[key]

    def baseline(mask: np.ndarray) -> np.ndarray:
        if mask.tobytes() not in baselines:
            on, off = np.flatnonzero(mask & train), np.flatnonzero(mask & test)
            scores = np.full(n, np.nan)
            found = baseline_scores([rows.texts[i] for i in on], rows.rating[on], [rows.texts[i] for i in off], seed)
            if found is not None:
                scores[off] = found
            baselines[mask.tobytes()] = scores
        return baselines[mask.tobytes()]

    everything = np.ones(n, dtype=bool)
    pooled_shortage = _shortage(
        int(train.sum()), int(test.sum()), len(np.unique(rows.rating[train])), min_train, min_test
    )
    records: list[dict[str, Any]] = []
    chosen_keys: dict[str, str] = {}
    for language in [*sorted(set(rows.language.tolist())), POOLED]:
        mine = everything if language == POOLED else rows.language == language
        tr, te = mine & train, mine & test
        n_train, n_test = int(tr.sum()), int(te.sum())
        record: dict[str, Any] = {"language": language, "n_train": n_train, "n_test": n_test}
        record["train_start"], record["train_end"] = _span(rows.time[tr])
        record["test_start"], record["test_end"] = _span(rows.time[te])
        truth = rows.rating[te]
        if n_test:
            record["generic_macro_f1"] = _macro_f1(truth, rows.generic[te])
            record["generic_accuracy"] = float(accuracy_score(truth, rows.generic[te]))
            record["generic_auc"] = polarity_auc(truth, rows.generic_score[te])
        own = _shortage(n_train, n_test, len(np.unique(rows.rating[tr])), min_train, min_test)
        if language == POOLED:
            key, why_not = (None, f"pooled model: {own}") if own else (POOLED, None)
        elif own is None:
            key, why_not = language, None
        elif n_test >= min_test and pooled_shortage is None:
            key, why_not = POOLED, None
        else:
            key = None
            why_not = f"too little data for a model of its own ({own})"
            if pooled_shortage:
                why_not += f", nor for the pooled model ({pooled_shortage})"
        if key is None:
            record.update(chosen_model=GENERIC, domain_model=None, reason=f"{why_not}: the generic model stays")
            records.append(record)
            continue
        key_rows = everything if key == POOLED else mine
        model, c = split_fit(key, key_rows)
        proba = _proba(model, x[te])
        predicted = np.asarray(SENTIMENT_LABELS)[proba.argmax(axis=1)]
        domain_f1 = _macro_f1(truth, predicted)
        record.update(
            domain_macro_f1=domain_f1,
            domain_accuracy=float(accuracy_score(truth, predicted)),
            domain_auc=polarity_auc(truth, proba[:, 2] - proba[:, 0]),
            baseline_auc=polarity_auc(truth, baseline(key_rows)[te]),
            domain_model=f"{DOMAIN}:{key}",
        )
        generic_f1 = record["generic_macro_f1"]
        better = domain_f1 > generic_f1
        what = "the pooled model (all languages)" if key == POOLED else "its own model"
        if language != POOLED and key == POOLED:
            what += f" (too little data for its own: {own})"
        verdict = "beats" if better else ("ties with" if domain_f1 == generic_f1 else "does not beat")
        reason = (
            f"{what}, C={c:g}, fitted on texts before {cutoff:%Y-%m-%d %H:%M:%S}, {verdict} the generic model on "
            f"macro-F1 over the newer texts ({domain_f1:.3f} vs {generic_f1:.3f})"
        ) + _auc_note(record["domain_auc"], record["baseline_auc"])
        if language == POOLED:
            # the pooled row is last: it is 'chosen' when it scores some language, and says which
            users = sorted(lang for lang, k in chosen_keys.items() if k == POOLED)
            record["chosen_model"] = DOMAIN if users else GENERIC
            reason += f"; it scores {', '.join(users)}" if users else "; it scores no language"
        else:
            record["chosen_model"] = DOMAIN if better else GENERIC
            reason += "" if better else ": the generic model stays"
            if better:
                chosen_keys[language] = key
        record["reason"] = reason
        records.append(record)

    # the chosen models are refitted on every rated row of their key (same C) for scoring; their own rated texts
    # are scored by fold models that did not see them
    models: dict[str, Pipeline] = {}
    crossfits: dict[str, CrossFit] = {}
    for key in sorted(set(chosen_keys.values())) if refit else []:
        mask = everything if key == POOLED else rows.language == key
        fit = partial(_fit, c=fitted[key][1], seed=seed)
        models[key] = fit(x[mask], rows.rating[mask])
        texts = [rows.texts[i] for i in np.flatnonzero(mask)]
        crossfits[key] = cross_fit(x[mask], rows.rating[mask], texts, rows.time[mask], fit, FOLDS)
    evaluations = pa.Table.from_pylist(
        [{f.name: r.get(f.name) for f in EVALUATION_SCHEMA} for r in records], schema=EVALUATION_SCHEMA
    )
    return DomainSentiment(
        models=models,
        routes=chosen_keys if refit else {},
        cutoff=cutoff,
        params={key: c for key, (_, c) in fitted.items()},
        crossfits=crossfits,
        _evaluations=evaluations,
    )


__all__ = [
    "EVALUATION_SCHEMA",
    "FOLDS",
    "OPTIONAL_COLUMNS",
    "RATING_SCALES",
    "SCORE_SCHEMA",
    "DomainSentiment",
    "fit_domain_sentiment",
    "rating_to_label",
    "time_split",
]
