"""The text model: loads the committed artifacts and scores texts into `SIGNAL_SCHEMA` rows.

Artifacts live in `empathy/text/artifacts/` and are written by `empathy train-text`:
- `manifest.json`: version, heads, label sets, training sources and held-out figures;
- `projection.npz`: the PCA that turns the teacher's piece vectors into the static table;
- `ngrams.npz`: the English word and char n-gram vocabularies and idf;
- `heads.npz`: one multinomial logistic regression per task and view (`<task>__<view>__coef|intercept|bias`).

The model version is a hash of those files, so a retrained model re-scores every text once and an
unchanged one scores only new texts.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import scipy.sparse as sps

from empathy.text import rules
from empathy.text.embedding import StaticEmbedder
from empathy.text.features import NgramVocab, Views, build_views
from empathy.text.language import LANGUAGES, LanguagePrior, resolve_languages
from empathy.text.normalize import normalise_text
from empathy.text.schema import EMOTIONS, SIGNAL_SCHEMA

ARTIFACTS = Path(__file__).with_name("artifacts")
ARTIFACT_FILES = ("manifest.json", "projection.npz", "ngrams.npz", "heads.npz")
TASKS = ("sentiment", "emotion", "intent", "topic")
CHUNK = 4096


class ModelMissing(FileNotFoundError):
    pass


def artifacts_dir() -> Path:
    return Path(os.environ.get("EMPATHY_TEXT_MODEL", ARTIFACTS))


def model_version(path: Path) -> str:
    digest = hashlib.sha256()
    for name in ARTIFACT_FILES:
        digest.update((path / name).read_bytes())
    return "text-" + digest.hexdigest()[:12]


@dataclass
class Head:
    classes: list[str]
    coef: np.ndarray  # (classes, features)
    intercept: np.ndarray  # (classes,)
    bias: np.ndarray  # (classes,) decision offsets tuned on held-out data

    def proba(self, x) -> np.ndarray:
        # float64 throughout: a float32 product's last bits depend on how BLAS splits it over threads and on
        # the array's alignment, so the same text could get a probability 3e-8 apart in two runs
        if sps.issparse(x):
            x = x if x.dtype == np.float64 else x.astype(np.float64)
        else:
            x = np.asarray(x, dtype=np.float64)
        logits = np.asarray(x @ self.coef.T) + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        return p

    def decide(self, p: np.ndarray) -> np.ndarray:
        return (np.log(np.clip(p, 1e-12, None)) + self.bias).argmax(axis=1)


@lru_cache(maxsize=1)
def _detector():
    from lingua import Language, LanguageDetectorBuilder

    wanted = [lang for lang in Language.all() if lang.iso_code_639_1.name.lower() in LANGUAGES]
    return LanguageDetectorBuilder.from_languages(*wanted).with_low_accuracy_mode().build()


def detect_languages(texts: list[str], min_confidence: float = 0.5) -> tuple[list[str], list[float]]:
    """ISO 639-1 code and confidence per text; 'und' below `min_confidence` (too short, emoji only, ...)."""
    if not texts:
        return [], []
    results = _detector().compute_language_confidence_values_in_parallel(texts)
    codes, confidences = [], []
    for values in results:
        top = values[0] if values else None
        if top is None or top.value < min_confidence:
            codes.append("und")
            confidences.append(float(top.value) if top else 0.0)
        else:
            codes.append(top.language.iso_code_639_1.name.lower())
            confidences.append(float(top.value))
    return codes, confidences


class TextModel:
    tier = "fast"

    def __init__(self, path: Path | None = None, progress: Callable[[float], None] | None = None):
        path = Path(path or artifacts_dir())
        missing = [n for n in ARTIFACT_FILES if not (path / n).exists()]
        if missing:
            raise ModelMissing(
                f"text model artifacts missing in {path}: {', '.join(missing)}; run `empathy train-text` "
                "(needs ../shared/data) or restore them from git"
            )
        self.path = path
        self.version = model_version(path)
        self.manifest = json.loads((path / "manifest.json").read_text())
        with np.load(path / "projection.npz") as z:
            self.embedder = StaticEmbedder.from_projection(z["mean"], z["components"], progress=progress)
        with np.load(path / "ngrams.npz", allow_pickle=False) as z:
            self.ngrams = NgramVocab(
                [str(t) for t in z["word_vocab"]], z["word_idf"], [str(t) for t in z["char_vocab"]], z["char_idf"]
            )
        self.heads: dict[tuple[str, str], Head] = {}
        with np.load(path / "heads.npz", allow_pickle=False) as z:
            for task in TASKS:
                for view in ("english", "multilingual"):
                    key = f"{task}__{view}"
                    self.heads[task, view] = Head(
                        [str(c) for c in z[f"{key}__classes"]],
                        z[f"{key}__coef"].astype(np.float64),
                        z[f"{key}__intercept"].astype(np.float64),
                        z[f"{key}__bias"].astype(np.float64),
                    )

    # -- scoring -------------------------------------------------------------------------------------------
    def probabilities(self, views: Views, english: np.ndarray) -> dict[str, np.ndarray]:
        """Per task, class probabilities (n, classes): the English head for English texts, else multilingual;
        then the customer-service rules (`empathy.text.rules`), and "sarcasm", the rule's score (n,)."""
        out = {}
        multilingual = np.asarray(views.multilingual, dtype=np.float64)
        english_x = None
        if english.any() and views.english is not None:
            # once for all heads: a sparse astype sorts the indices again on every call
            english_x = views.english.astype(np.float64)
            english_x.sum_duplicates()
        for task in TASKS:
            p = self.heads[task, "multilingual"].proba(multilingual)
            if english_x is not None:
                p[english] = self.heads[task, "english"].proba(english_x)  # rows of English texts only
            out[task] = p
        out["sentiment"] = self.problem_aware(out["sentiment"], out["intent"])
        classes = {task: self.heads[task, "multilingual"].classes for task in TASKS}
        emoji = np.array([s if s is not None else 0.0 for s in views.emoji_sentiment], dtype=np.float64)
        out["sarcasm"] = rules.sarcasm_scores(views.cues, self.p_problem(out["intent"]), emoji)
        rules.flip_sarcasm(out, classes, out["sarcasm"])
        rules.lift_negated_negatives(out, classes, views.cues)
        rules.settle_complaint_or_request(out, classes, views.cues)
        rules.lift_cued_emotions(out, classes, views.cues)
        return out

    def p_problem(self, p_intent: np.ndarray) -> np.ndarray:
        """P(complaint or cancellation) per text."""
        intent = self.heads["intent", "multilingual"].classes
        return p_intent[:, intent.index("complaint")] + p_intent[:, intent.index("cancellation_intent")]

    def problem_aware(self, p_sent: np.ndarray, p_intent: np.ndarray) -> np.ndarray:
        """Move neutral mass to negative by P(complaint or cancellation): "order 4411 still not here" is
        negative to a customer-service team even without an emotion word."""
        sent = self.heads["sentiment", "multilingual"].classes
        problem = self.p_problem(p_intent)
        neg, neu = sent.index("negative"), sent.index("neutral")
        out = p_sent.copy()
        moved = out[:, neu] * np.clip(problem, 0.0, 1.0)
        out[:, neu] -= moved
        out[:, neg] += moved
        return out

    def _decide(self, task: str, p: np.ndarray, english: np.ndarray) -> np.ndarray:
        chosen = self.heads[task, "multilingual"].decide(p)
        if english.any():
            chosen[english] = self.heads[task, "english"].decide(p[english])
        return chosen

    def decisions(self, probs: dict[str, np.ndarray], english: np.ndarray) -> dict[str, np.ndarray]:
        """Per task, the chosen class's index in the head's classes (after the head's decision offsets)."""
        return {task: self._decide(task, probs[task], english) for task in TASKS}

    def score(self, texts: Sequence[str | None], prior: LanguagePrior | None = None) -> pa.Table:
        """One `SIGNAL_SCHEMA` row per input text, in input order (None/empty text gives 'und' and neutral).

        Without `prior` each text has the detector's language; with it, short texts lean on the writer's declared
        language and the company's mix (`empathy.text.language`). The language chooses the heads."""
        texts = [normalise_text(t) for t in texts]
        parts = []
        for i in range(0, len(texts), CHUNK):
            part = prior
            if prior is not None and prior.declared is not None:
                part = LanguagePrior(prior.declared[i : i + CHUNK], prior.mix, prior.switch_confidence)
            parts.append(self._score_chunk(texts[i : i + CHUNK], part))
        if not parts:
            return SIGNAL_SCHEMA.empty_table()
        return pa.concat_tables(parts)

    def _score_chunk(self, texts: list[str], prior: LanguagePrior | None) -> pa.Table:
        detected, confidences = detect_languages(texts)
        languages, sources = resolve_languages(detected, confidences, prior)
        english = np.array([lang == "en" for lang in languages], dtype=bool)
        views = build_views(texts, self.embedder, self.ngrams if english.any() else None, english_rows=english)
        probs = self.probabilities(views, english)
        language = {"language": languages, "detected_language": detected, "language_source": sources}
        return self.table(texts, language, confidences, views, probs, self.decisions(probs, english))

    def table(
        self,
        texts,
        language: dict[str, list[str]],
        confidences,
        views: Views,
        probs,
        decisions,
        version: str | None = None,
    ) -> pa.Table:
        """`SIGNAL_SCHEMA` rows from the probabilities and decisions (`version`: the model_version to stamp)."""
        sent_classes = self.heads["sentiment", "multilingual"].classes
        p_sent = probs["sentiment"]
        p_neg, p_pos = (p_sent[:, sent_classes.index(c)] for c in ("negative", "positive"))
        sentiment_label = np.array(sent_classes)[decisions["sentiment"]]
        emo_classes = self.heads["emotion", "multilingual"].classes
        p_emo = probs["emotion"][:, [emo_classes.index(e) for e in EMOTIONS]]
        dominant = np.array(emo_classes)[decisions["emotion"]] if len(texts) else []
        intent_classes = self.heads["intent", "multilingual"].classes
        intent_idx = decisions["intent"]
        topic_classes = self.heads["topic", "multilingual"].classes
        topic_idx = decisions["topic"]
        rows = np.arange(len(texts))
        empty = np.array([not t for t in texts], dtype=bool)
        score = p_pos - p_neg
        intensity = np.clip(0.5 * (np.abs(score) + (1.0 - p_emo[:, EMOTIONS.index("neutral")])), 0.0, 1.0)
        intents = np.array(intent_classes)[intent_idx] if len(texts) else np.array([], dtype=str)
        topics = np.array(topic_classes)[topic_idx] if len(texts) else np.array([], dtype=str)
        columns = {
            "text_hash": [hashlib.sha256(t.encode("utf-8")).hexdigest() for t in texts],  # texts are normalised already
            "model_version": [version or self.version] * len(texts),
            **language,
            "language_confidence": confidences,
            "sentiment_score": np.where(empty, 0.0, score),
            "sentiment_label": np.where(empty, "neutral", sentiment_label) if len(texts) else [],
            "sentiment_intensity": np.where(empty, 0.0, intensity),
            **{f"emotion_{e}": p_emo[:, i] for i, e in enumerate(EMOTIONS)},
            "dominant_emotion": np.where(empty, "neutral", dominant) if len(texts) else [],
            "intent": intents,
            "intent_confidence": probs["intent"][rows, intent_idx],
            "complaint_reason": rules.complaint_reasons(intents, topics),
            "topic": topics,
            "topic_confidence": probs["topic"][rows, topic_idx],
            "emoji_count": views.emoji_count,
            "emoji_sentiment": views.emoji_sentiment,
            "has_negation": views.has_negation,
            "sarcasm_score": np.where(empty, 0.0, probs["sarcasm"]),
        }
        return pa.table(
            {
                name: pa.array(columns[name], type=field.type)
                for name, field in zip(SIGNAL_SCHEMA.names, SIGNAL_SCHEMA, strict=True)
            }
        )


_MODELS: dict[str, TextModel] = {}


def configured_tier() -> str:
    """The text tier `empathy.yml` chooses (`text.tier`: fast or accurate)."""
    from empathy.config import load_settings

    return load_settings().text_tier


def load_model(path: Path | None = None, tier: str | None = None):
    """The text model of `tier` (default: the configured one), cached per process; `path`: its artifacts."""
    tier = tier or configured_tier()
    if tier == "accurate":
        from empathy.text.accurate import AccurateTextModel, accurate_artifacts_dir

        key = "accurate:" + str(Path(path or accurate_artifacts_dir()).resolve())
        if key not in _MODELS:
            _MODELS[key] = AccurateTextModel(Path(key.split(":", 1)[1]), fast=load_model(tier="fast"))
        return _MODELS[key]
    if tier != "fast":
        raise ValueError(f"unknown text tier {tier!r}; use fast or accurate")
    key = str(Path(path or artifacts_dir()).resolve())
    if key not in _MODELS:
        _MODELS[key] = TextModel(Path(key))
    return _MODELS[key]
