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
- Women's clothing reviews (1-5 stars): the company model (`empathy.text.domain`) fitted on the older 75% of the
  reviews (file order stands for time: the set has no dates), its polarity AUC on the newest 25% against a char
  n-gram TF-IDF logistic regression fitted on the same rows, and the generic model's.
- Throughput: texts/s for the full set of signals, one process, against VADER's polarity_scores.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
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
    model: float | None  # None: not computed, `note` says why
    vader: float | None = None
    other: dict[str, float] = field(default_factory=dict)
    note: str = ""  # why the figure could not be measured (model is then None or nan)


COMPANY_DATA = "Women's clothing reviews (en), newest 25% in file order"
COMPANY_METRIC = "out-of-time polarity AUC, company model (other: char n-gram TF-IDF LR, generic)"


def company_model_row(model: TextModel, reviews: corpora.Labelled | None, why_not: str = "") -> Row:
    """The company model's out-of-time AUC beside the char n-gram baseline's, or why it was not computed."""
    from empathy.text.domain import POOLED, fit_domain_sentiment

    if reviews is None or not len(reviews):
        return Row(COMPANY_DATA, COMPANY_METRIC, 0, None, note=f"not computed: {why_not or 'no rated reviews'}")
    signals = model.score(reviews.texts)
    minutes = np.arange(len(reviews), dtype=np.int64).astype("timedelta64[m]")
    table = pa.table(
        {
            "text": reviews.texts,
            "language": signals["language"],
            "occurred_at": pa.array(np.datetime64("2020-01-01T00:00", "us") + minutes, type=pa.timestamp("us")),
            "rating_label": reviews.labels,
            "generic_label": signals["sentiment_label"],
            "generic_score": signals["sentiment_score"],
        }
    )
    rows = fit_domain_sentiment(table, refit=False).evaluations().to_pylist()
    pooled = next(r for r in rows if r["language"] == POOLED)
    if pooled["domain_auc"] is None:
        return Row(COMPANY_DATA, COMPANY_METRIC, pooled["n_test"], None, note=f"not computed: {pooled['reason']}")
    other = {"baseline": pooled["baseline_auc"], "generic": pooled["generic_auc"]}
    return Row(
        COMPANY_DATA,
        COMPANY_METRIC,
        pooled["n_test"],
        pooled["domain_auc"],
        other={k: v for k, v in other.items() if v is not None},
    )


def _womens_reviews() -> tuple[corpora.Labelled | None, str]:
    try:
        return corpora.womens_clothing_reviews(), ""
    except FileNotFoundError as exc:
        return None, str(exc)


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


def demo_truth_rows(model: TextModel, truth_dir: Path | None) -> list[Row]:
    """The demo world's truth figures (texts read back from the landing folder beside `_truth/`), or one row
    saying why they are not computed."""
    name = "demo world truth"
    if truth_dir is None or not (Path(truth_dir) / "texts.parquet").exists():
        why = f"not computed: no texts.parquet in {truth_dir or 'the landing folder'}/ (only a generated world has one)"
        return [Row(name, "complaint, emotion and sarcasm figures", 0, None, note=why)]
    landing = Path(truth_dir).parent
    frame = truth_texts(landing, landing / "_truth")
    scored = score_texts(frame["text"].tolist(), model=model).to_pandas()
    figures = truth_figures(frame, scored)
    n = int(figures.pop("texts"))
    return [Row(f"{name} ({n:,} texts, en/es/pt)", metric, n, value) for metric, value in figures.items()]


def evaluate(
    model: TextModel | None = None,
    progress: Callable[[str], None] | None = None,
    throughput_texts: int = 20000,
    truth_dir: Path | None = None,
) -> list[Row]:
    model = model or load_model()
    rows: list[Row] = []

    def say(msg):
        if progress:
            progress(msg)

    say("language of short texts")
    rows.extend(short_text_language_rows(model, truth_dir))

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

    say("company model on rated reviews")
    rows.append(company_model_row(model, *_womens_reviews()))
    say("real customer text held out")
    rows += customer_holdout_rows(model)
    say("demo world truth")
    rows += demo_truth_rows(model, truth_dir)

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


def to_markdown(rows: list[Row], version: str, tier: str = "fast") -> str:
    lines = [
        f"Text model `{version}` ({tier} tier) on data it never trained on (`empathy eval-text`). VADER uses its standard "
        f"±{VADER_THRESHOLD} cut. 95% interval half-width shown for proportions on small sets.",
        "",
        "| data | metric | n | model | VADER | other |",
        "|---|---|---:|---:|---:|---|",
    ]
    for r in rows:
        if r.model is None or (r.note and not np.isfinite(r.model)):
            lines.append(f"| {r.data} | {r.metric} | {r.n:,} | not computed | | {r.note} |")
            continue
        is_rate = r.metric.startswith("texts/s")
        model = f"{r.model:,.0f}" if is_rate else f"{r.model:.3f}"
        if not is_rate and "accuracy" in r.metric and r.n < 1000:
            model += f" ±{_ci(r.model, r.n):.2f}"
        vader = "" if r.vader is None else (f"{r.vader:,.0f}" if is_rate else f"{r.vader:.3f}")
        other = ", ".join(f"{k} {v:.3f}" for k, v in r.other.items())
        lines.append(f"| {r.data} | {r.metric} | {r.n:,} | {model} | {vader} | {other} |")
    return "\n".join(lines)


# -- language of short texts ------------------------------------------------------------------------------------
SHORT_EVAL_WORDS = 4  # the row's texts: at most this many words


def short_text_language_accuracy(
    texts: list[str], truth: list[str], declared: list[str | None], model: TextModel
) -> tuple[int, float, float]:
    """(n, accuracy with the declared languages as prior, the detector's accuracy alone) on the texts of at most
    `SHORT_EVAL_WORDS` words."""
    keep = [i for i, t in enumerate(texts) if t and len(t.split()) <= SHORT_EVAL_WORDS]
    if not keep:
        return 0, float("nan"), float("nan")
    scored = score_texts([texts[i] for i in keep], model=model, declared=[declared[i] for i in keep])
    right = [truth[i] for i in keep]
    primed = float(np.mean([a == b for a, b in zip(scored["language"].to_pylist(), right, strict=True)]))
    alone = float(np.mean([a == b for a, b in zip(scored["detected_language"].to_pylist(), right, strict=True)]))
    return len(keep), primed, alone


SHORT_METRIC = f"language accuracy, texts of <= {SHORT_EVAL_WORDS} words (customer language known)"
CLOTHING_REVIEWS = Path("womens_clothing_reviews") / "womens_clothing_ecommerce_reviews.csv"


def _short_row(data: str, texts, truth, declared, model) -> Row:
    n, primed, alone = short_text_language_accuracy(texts, truth, declared, model)
    return Row(data, SHORT_METRIC, n, primed, other={"detector alone": alone})


def short_text_language_rows(model: TextModel, truth_dir: Path | None) -> list[Row]:
    """The language of short texts with the writer's language as prior: on the demo world's truth, on the first
    2-4 words of the project's evaluation texts (en, es, pt) and on real English review titles."""
    rows = []
    texts_truth = Path(truth_dir) / "texts.parquet" if truth_dir else None
    if texts_truth is not None and texts_truth.exists():
        rows.append(_short_row("demo world truth (en, es, pt)", *demo_short_texts(truth_dir), model))
    else:
        where = texts_truth or "<landing>/_truth/texts.parquet"
        rows.append(
            Row(
                "demo world truth",
                SHORT_METRIC,
                0,
                float("nan"),
                note=f"no ground truth at {where}: generate a demo world (`empathy generate`) or pass --truth",
            )
        )
    evals = corpora.eval_rows()
    prefixes = [" ".join(r["text"].split()[:k]) for r in evals for k in (2, 3, 4)]
    languages = [r["language"] for r in evals for _ in (2, 3, 4)]
    rows.append(_short_row("project eval set, first 2-4 words (en, es, pt)", prefixes, languages, languages, model))
    path = corpora.shared_data_dir() / CLOTHING_REVIEWS
    if path.exists():
        with path.open(encoding="utf-8", newline="") as handle:
            titles = [r["Title"] for r in csv.DictReader(handle) if r["Title"]]
        english = ["en"] * len(titles)
        rows.append(_short_row("women's clothing review titles (en, real)", titles, english, english, model))
    else:
        rows.append(Row("women's clothing review titles", SHORT_METRIC, 0, float("nan"), note=f"{path} not found"))
    return rows


def demo_short_texts(truth_dir) -> tuple[list[str], list[str], list[str | None]]:
    """The demo world's texts with their true language and their customer's declared language."""
    import pyarrow.compute as pc
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    truth_dir = Path(truth_dir)
    landing = truth_dir.parent
    truth = pq.read_table(truth_dir / "texts.parquet")
    customers = ds.dataset(landing / "customers", format="parquet", partitioning="hive").to_table(
        columns=["customer_id", "language", "updated_at"]
    )
    customers = customers.sort_by([("customer_id", "ascending"), ("updated_at", "descending")])
    declared_by_id: dict[str, str | None] = {}
    for cid, language in zip(customers["customer_id"].to_pylist(), customers["language"].to_pylist(), strict=True):
        declared_by_id.setdefault(cid, language)
    texts, languages, declared = [], [], []
    for (table, column), part in _by_source(truth).items():
        source = ds.dataset(landing / table, format="parquet", partitioning="hive").to_table()
        key = source.column_names[0]
        found = source.filter(pc.is_in(source[key], value_set=part["id"]))
        text_by_id = dict(zip(found[key].to_pylist(), found[column].to_pylist(), strict=True))
        for rid, cid, language in zip(
            part["id"].to_pylist(), part["customer_id"].to_pylist(), part["language"].to_pylist(), strict=True
        ):
            if text_by_id.get(rid):
                texts.append(text_by_id[rid])
                languages.append(language)
                declared.append(declared_by_id.get(cid))
    return texts, languages, declared


def _by_source(truth):
    import pyarrow.compute as pc

    pairs = truth.select(["source_table", "source_column"]).group_by(["source_table", "source_column"]).aggregate([])
    return {
        (t, c): truth.filter(pc.and_(pc.equal(truth["source_table"], t), pc.equal(truth["source_column"], c)))
        for t, c in zip(pairs["source_table"].to_pylist(), pairs["source_column"].to_pylist(), strict=True)
    }
