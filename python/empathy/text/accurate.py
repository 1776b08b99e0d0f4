"""The accurate text tier: a fine-tuned MiniLM encoder for sentiment and emotions, the fast tier for the rest.

Artifacts live in `empathy/text/artifacts_accurate/` and are written by `empathy train-text --tier accurate`:
- `encoder.int8.onnx`: all-MiniLM-L6-v2 fine-tuned on GoEmotions (emotions, sentiment) and the customer-service
  sentiment rows the fast tier learns from, with its two heads, weights in int8;
- `tokenizer.json`: its WordPiece tokenizer (the `tokenizers` package reads it);
- `manifest.json`: classes, decision offsets, recipe, training data and figures.

English texts (and texts too short for a language) get the encoder's sentiment and emotions; texts in the
other languages keep the fast tier's multilingual heads, since MiniLM's vocabulary is English. Language,
intent, topic, emojis, negation and sarcasm come from the fast tier for every text, so every column of
`SIGNAL_SCHEMA` is filled exactly as the fast tier fills it. The version is a hash of these files and of the
fast tier's version: a tier has its own version, and each text is scored once per version.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa

from empathy.text.encoder import OnnxEncoder
from empathy.text.features import build_views
from empathy.text.language import LanguagePrior, resolve_languages
from empathy.text.model import CHUNK, ModelMissing, TextModel, detect_languages
from empathy.text.normalize import normalise_text
from empathy.text.schema import SIGNAL_SCHEMA

ARTIFACTS_ACCURATE = Path(__file__).with_name("artifacts_accurate")
ACCURATE_FILES = ("manifest.json", "encoder.int8.onnx", "tokenizer.json")
ENCODER_LANGUAGES = ("en", "und")


def accurate_artifacts_dir() -> Path:
    return Path(os.environ.get("EMPATHY_TEXT_MODEL_ACCURATE", ARTIFACTS_ACCURATE))


def accurate_version(path: Path, fast_version: str) -> str:
    digest = hashlib.sha256(fast_version.encode())
    for name in ACCURATE_FILES:
        digest.update((path / name).read_bytes())
    return "text-acc-" + digest.hexdigest()[:12]


def reorder(columns: Sequence[str], wanted: Sequence[str]) -> list[int]:
    """Indices taking `columns` into the order of `wanted` (the same class names)."""
    if sorted(columns) != sorted(wanted):
        raise ValueError(f"the encoder's classes {list(columns)} differ from the fast tier's {list(wanted)}")
    return [list(columns).index(c) for c in wanted]


class AccurateTextModel:
    tier = "accurate"

    def __init__(self, path: Path, fast: TextModel):
        missing = [n for n in ACCURATE_FILES if not (path / n).exists()]
        if missing:
            raise ModelMissing(
                f"accurate text model artifacts missing in {path}: {', '.join(missing)}; run "
                "`empathy train-text --tier accurate` or restore them from git"
            )
        self.path = path
        self.fast = fast
        self.manifest = json.loads((path / "manifest.json").read_text())
        self.tasks = list(self.manifest["classes"])
        self.encoder = OnnxEncoder(path, self.tasks, max_len=self.manifest["recipe"]["max_len"])
        self.version = accurate_version(path, fast.version)
        self.embedder = fast.embedder  # themes and company models use the fast tier's multilingual embedding
        self.order = {
            task: reorder(self.manifest["classes"][task], fast.heads[task, "multilingual"].classes)
            for task in self.tasks
        }
        self.offsets = {
            task: np.asarray(self.manifest["offsets"][task], dtype=np.float64)[self.order[task]] for task in self.tasks
        }

    def encoder_probabilities(self, texts: list[str], fast_intent: np.ndarray) -> dict[str, np.ndarray]:
        """Per task, probabilities in the fast heads' class order; sentiment made problem-aware as the fast tier's."""
        raw = self.encoder.probabilities(texts)
        probs = {task: raw[task][:, self.order[task]] for task in self.tasks}
        if "sentiment" in probs:
            probs["sentiment"] = self.fast.problem_aware(probs["sentiment"], fast_intent)
        return probs

    def decide(self, task: str, p: np.ndarray) -> np.ndarray:
        return (np.log(np.clip(p, 1e-12, None)) + self.offsets[task]).argmax(axis=1)

    def score(self, texts: Sequence[str | None], prior: LanguagePrior | None = None) -> pa.Table:
        """One `SIGNAL_SCHEMA` row per input text, in input order, as `TextModel.score` (`prior`: the same)."""
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
        fast = self.fast
        detected, confidences = detect_languages(texts)
        languages, sources = resolve_languages(detected, confidences, prior)
        english = np.array([lang == "en" for lang in languages], dtype=bool)
        views = build_views(texts, fast.embedder, fast.ngrams if english.any() else None, english_rows=english)
        probs = fast.probabilities(views, english)
        decisions = fast.decisions(probs, english)
        rows = np.array([lang in ENCODER_LANGUAGES and bool(t) for lang, t in zip(languages, texts, strict=True)])
        if rows.any():
            chosen = [t for t, keep in zip(texts, rows, strict=True) if keep]
            encoded = self.encoder_probabilities(chosen, probs["intent"][rows])
            for task, p in encoded.items():
                probs[task][rows] = p
                decisions[task][rows] = self.decide(task, p)
        language = {"language": languages, "detected_language": detected, "language_source": sources}
        return fast.table(texts, language, confidences, views, probs, decisions, version=self.version)
