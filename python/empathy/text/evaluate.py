"""`empathy eval-text`: the text model against labelled data it never trained on, beside VADER.

- GoEmotions dev split (single-label rows): Ekman 7-class macro-F1; 3-class sentiment macro-F1
  (GoEmotions groups, ambiguous counted as neutral).
- Bitext: the 20% held out per intent: intent and topic accuracy (product labels).
- The project's multilingual evaluation set (en/es/pt customer-service messages): per language,
  sentiment macro-F1, emotion macro-F1, intent and topic accuracy; sentiment on the rows with a
  negation, against VADER (and LeIA, VADER's Portuguese adaptation, for pt).
- Real customer text held out from training: complaint recall and precision (CFPB complaints and 1-2 star
  reviews against banking queries and 5-star reviews), 3-class sentiment macro-F1 on the same rows.
- A generated demo world's truth (`<landing>/_truth/texts.parquet`), when given: complaint recall and
  precision, recall of each negative emotion, dominant-emotion macro-F1, sarcasm flag rates.
- Throughput: texts/s for the full set of signals, one process, against VADER's polarity_scores.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, f1_score

from empathy.text import corpora
from empathy.text.model import TextModel, load_model
from empathy.text.schema import EMOTIONS, SENTIMENT_LABELS
from empathy.text.scoring import score_texts
from empathy.text.truth_eval import recall_precision, truth_figures, truth_texts

VADER_THRESHOLD = 0.05  # VADER's documented cut between neutral and polar


def vader_labels(texts: list[str], analyzer=None) -> list[str]:
    if analyzer is None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        analyzer = SentimentIntensityAnalyzer()
    out = []
    for text in texts:
        c = analyzer.polarity_scores(text)["compound"]
        out.append("positive" if c >= VADER_THRESHOLD else "negative" if c <= -VADER_THRESHOLD else "neutral")
    return out


def leia_labels(texts: list[str]) -> list[str]:
    from LeIA import SentimentIntensityAnalyzer

    return vader_labels(texts, SentimentIntensityAnalyzer())


def macro_f1(y_true, y_pred, labels) -> float:
    return float(f1_score(y_true, y_pred, labels=list(labels), average="macro", zero_division=0))


@dataclass
class Row:
    data: str
    metric: str
    n: int
    model: float
    vader: float | None = None
    other: dict[str, float] = field(default_factory=dict)


def _ci(p: float, n: int) -> float:
    """Half-width of the 95% normal interval for a proportion."""
    return 1.96 * (p * (1 - p) / max(n, 1)) ** 0.5


def customer_holdout_rows(model: TextModel) -> list[Row]:
    """Complaint detection and sentiment on held-out real customer text (never trained on)."""
    held = corpora.cfpb("holdout") + corpora.clothing_reviews("holdout") + corpora.banking77("holdout")
    scored = score_texts([r.text for r in held], model=model)
    truth = np.array([r.intent == "complaint" for r in held])
    said = np.array([i == "complaint" for i in scored["intent"].to_pylist()])
    recall, precision = recall_precision(truth, said)
    name = "real customer text held out (CFPB, reviews, banking77 test)"
    sentiment = [{"complaint": "negative", "praise": "positive"}.get(r.intent, "neutral") for r in held]
    return [
        Row(name, "complaint recall", int(truth.sum()), recall),
        Row(name, "complaint precision", int(said.sum()), precision),
        Row(
            name,
            "sentiment 3-class macro-F1",
            len(held),
            macro_f1(sentiment, scored["sentiment_label"].to_pylist(), SENTIMENT_LABELS),
            macro_f1(sentiment, vader_labels([r.text for r in held]), SENTIMENT_LABELS),
        ),
    ]


def demo_truth_rows(model: TextModel, landing: Path | None) -> list[Row]:
    """The demo world's truth figures, or one row saying why they are not computed."""
    name = "demo world truth"
    if landing is None or not (landing / "_truth" / "texts.parquet").exists():
        where = landing or "the landing folder"
        return [
            Row(
                f"{name}: not computed, no _truth/texts.parquet in {where} (only a generated world has one)",
                "-",
                0,
                float("nan"),
            )
        ]
    frame = truth_texts(landing, landing / "_truth")
    scored = score_texts(frame["text"].tolist(), model=model).to_pandas()
    figures = truth_figures(frame, scored)
    n = int(figures.pop("texts"))
    return [Row(f"{name} ({n:,} texts, en/es/pt)", metric, n, value) for metric, value in figures.items()]


def evaluate(
    model: TextModel | None = None,
    progress: Callable[[str], None] | None = None,
    throughput_texts: int = 20000,
    landing: Path | None = None,
) -> list[Row]:
    model = model or load_model()
    rows: list[Row] = []

    def say(msg):
        if progress:
            progress(msg)

    say("GoEmotions dev")
    ekman = corpora.goemotions("ekman", "dev")
    group = corpora.goemotions("group", "dev")
    # the two label sets share most comments: score each distinct comment once
    both = score_texts(ekman.texts + group.texts, model=model)
    scored = both.slice(0, len(ekman))
    rows.append(
        Row(
            "GoEmotions dev (en)",
            "Ekman 7-class macro-F1",
            len(ekman),
            macro_f1(ekman.labels, scored["dominant_emotion"].to_pylist(), EMOTIONS),
        )
    )
    truth = [corpora.GROUP_TO_SENTIMENT[y] for y in group.labels]
    scored = both.slice(len(ekman))
    rows.append(
        Row(
            "GoEmotions dev (en)",
            "sentiment 3-class macro-F1",
            len(group),
            macro_f1(truth, scored["sentiment_label"].to_pylist(), SENTIMENT_LABELS),
            macro_f1(truth, vader_labels(group.texts), SENTIMENT_LABELS),
        )
    )

    say("Bitext held out")
    held = corpora.bitext("holdout")
    scored = model.score([r.text for r in held])
    rows.append(
        Row(
            "Bitext held-out 20% (en)",
            "intent accuracy",
            len(held),
            accuracy_score([r.product_intent for r in held], scored["intent"].to_pylist()),
        )
    )
    rows.append(
        Row(
            "Bitext held-out 20% (en)",
            "topic accuracy",
            len(held),
            accuracy_score([r.topic for r in held], scored["topic"].to_pylist()),
        )
    )
    rows.append(
        Row(
            "Bitext held-out 20% (en)",
            "sentiment 3-class macro-F1",
            len(held),
            macro_f1([r.sentiment for r in held], scored["sentiment_label"].to_pylist(), SENTIMENT_LABELS),
            macro_f1([r.sentiment for r in held], vader_labels([r.text for r in held]), SENTIMENT_LABELS),
        )
    )

    evals = corpora.eval_rows()
    for lang in ("en", "es", "pt"):
        part = [r for r in evals if r["language"] == lang]
        if not part:
            continue
        say(f"evaluation set ({lang})")
        texts = [r["text"] for r in part]
        scored = model.score(texts)
        name = f"project eval set ({lang}, customer service)"
        sent = [r["sentiment"] for r in part]
        predicted = scored["sentiment_label"].to_pylist()
        vader = vader_labels(texts)
        other = {"LeIA": macro_f1(sent, leia_labels(texts), SENTIMENT_LABELS)} if lang == "pt" else {}
        rows.append(
            Row(
                name,
                "sentiment 3-class macro-F1",
                len(part),
                macro_f1(sent, predicted, SENTIMENT_LABELS),
                macro_f1(sent, vader, SENTIMENT_LABELS),
                other,
            )
        )
        negated = [i for i, flag in enumerate(scored["has_negation"].to_pylist()) if flag]
        if negated:
            rows.append(
                Row(
                    name,
                    "sentiment accuracy, texts with a negation",
                    len(negated),
                    accuracy_score([sent[i] for i in negated], [predicted[i] for i in negated]),
                    accuracy_score([sent[i] for i in negated], [vader[i] for i in negated]),
                )
            )
        rows.append(
            Row(
                name,
                "Ekman 7-class macro-F1",
                len(part),
                macro_f1([r["emotion"] for r in part], scored["dominant_emotion"].to_pylist(), EMOTIONS),
            )
        )
        rows.append(
            Row(
                name,
                "intent accuracy",
                len(part),
                accuracy_score([r["intent"] for r in part], scored["intent"].to_pylist()),
            )
        )
        rows.append(
            Row(
                name,
                "topic accuracy",
                len(part),
                accuracy_score([r["topic"] for r in part], scored["topic"].to_pylist()),
            )
        )
        languages = scored["language"].to_pylist()
        rows.append(Row(name, "language detected correctly", len(part), float(np.mean([x == lang for x in languages]))))

    say("real customer text held out")
    rows += customer_holdout_rows(model)
    say("demo world truth")
    rows += demo_truth_rows(model, landing)

    say("throughput")
    pool = ekman.texts + [r["text"] for r in evals]
    texts = [pool[i % len(pool)] + ("" if i < len(pool) else f" #{i}") for i in range(throughput_texts)]
    t0 = time.perf_counter()
    model.score(texts)
    ours = len(texts) / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    vader_labels(texts)
    vader_rate = len(texts) / (time.perf_counter() - t0)
    rows.append(
        Row(
            f"{len(texts):,} distinct texts, 1 process",
            "texts/s (all signals vs VADER sentiment only)",
            len(texts),
            ours,
            vader_rate,
        )
    )
    return rows


def to_markdown(rows: list[Row], version: str) -> str:
    lines = [
        f"Text model `{version}` on data it never trained on (`empathy eval-text`). VADER uses its standard "
        f"±{VADER_THRESHOLD} cut. 95% interval half-width shown for proportions on small sets.",
        "",
        "| data | metric | n | model | VADER | other |",
        "|---|---|---:|---:|---:|---|",
    ]
    for r in rows:
        if math.isnan(r.model):
            lines.append(f"| {r.data} | {r.metric} | | | | |")
            continue
        is_rate = r.metric.startswith("texts/s")
        model = f"{r.model:,.0f}" if is_rate else f"{r.model:.3f}"
        if not is_rate and "accuracy" in r.metric and r.n < 1000:
            model += f" ±{_ci(r.model, r.n):.2f}"
        vader = "" if r.vader is None else (f"{r.vader:,.0f}" if is_rate else f"{r.vader:.3f}")
        other = ", ".join(f"{k} {v:.3f}" for k, v in r.other.items())
        lines.append(f"| {r.data} | {r.metric} | {r.n:,} | {model} | {vader} | {other} |")
    return "\n".join(lines)
