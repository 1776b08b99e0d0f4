"""The warehouse side of text understanding: the steps the dbt Python models under `models/*/text/` call.

The dbt models stay thin (read their refs, call one function here, return an Arrow table); everything they do
is here and tested on small inputs. Relational steps are ibis expressions, so they run inside the warehouse
(DuckDB under dbt-duckdb, any ibis backend elsewhere); data crosses into Python as Arrow only where Python must
see it: the texts the model scores, the rated texts the domain models are fitted on, the texts themes are
found in. Nothing loops over rows in Python but the scoring itself.

The scoring cache (`int_text_signals__scored`) holds one row per (text_hash, model_version): `text_hash` is the
sha256 of the normalised text (computed in the warehouse, bit for bit as `empathy.text.normalize.text_hash`
computes it), so a text is scored once per model version however many interactions repeat it, and a build
scores only the texts the current model version has not seen.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, timezone
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from empathy import status
from empathy.text import language as lang
from empathy.text.schema import SIGNAL_NAMES, SIGNAL_SCHEMA

# Interaction types whose `text` is free text the customer wrote or said (fct_interactions only ever holds the
# customer's words). `web_session` is left out: its text is the session's search terms ("jeans | size 42"),
# queries rather than something said to the company, and it would outnumber every other kind of text.
TEXT_INTERACTION_TYPES: tuple[str, ...] = (
    "ticket_opened",
    "ticket_message",
    "chat",
    "call_inbound",
    "call_outbound",
    "survey_response",
    "review",
    "social_mention",
    "subscription_cancelled",
)

# The scoring cache: the signals, keyed by (text_hash, model_version), and when they were computed.
CACHE_SCHEMA = pa.schema([*SIGNAL_SCHEMA, pa.field("scored_at", pa.timestamp("us"))])

# Columns of fct_text_signals, in order: the interaction, the signals (sentiment from the model chosen for the
# text's language), the generic model's sentiment kept beside it, and which model the sentiment comes from.
INTERACTION_COLUMNS: list[tuple[str, pa.DataType]] = [
    ("interaction_id", pa.string()),
    ("customer_id", pa.string()),
    ("occurred_at", pa.timestamp("us")),
    ("interaction_type", pa.string()),
    ("channel", pa.string()),
]
GENERIC_COLUMNS: list[tuple[str, pa.DataType]] = [
    ("generic_sentiment_score", pa.float64()),
    ("generic_sentiment_label", pa.string()),
    ("generic_sentiment_intensity", pa.float64()),
    ("sentiment_model", pa.string()),
]
TEXT_SIGNALS_SCHEMA = pa.schema(
    [pa.field(n, t) for n, t in INTERACTION_COLUMNS]
    + list(SIGNAL_SCHEMA)
    + [pa.field(n, t) for n, t in GENERIC_COLUMNS]
)
SENTIMENT_COLUMNS = ("sentiment_score", "sentiment_label", "sentiment_intensity")
GENERIC_MODEL = "generic"
DOMAIN_MODEL = "domain"  # domain.DOMAIN: chosen_model of a language whose company model won
POOLED_LANGUAGE = "all"  # domain.POOLED: the evaluations row of the model fitted on every language

# Every character Python's `str.isspace()` (and so `\s` in `normalise_text`) counts as whitespace. Written as
# the characters themselves, not escapes, so that any regex dialect reads the class the same way.
_WHITESPACE = "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())
WHITESPACE_RUN = f"[{_WHITESPACE}]+"


# -- connecting dbt's objects to ibis ----------------------------------------------------------------------------
def backend(session: Any) -> ibis.BaseBackend:
    """An ibis backend on the connection a dbt-duckdb Python model receives as `session`."""
    return ibis.duckdb.from_connection(session)


def as_table(con: ibis.BaseBackend, relation: Any) -> ir.Table:
    """An ibis table for what a dbt Python model holds: `dbt.ref()` (a DuckDB relation), `dbt.this`, Arrow, ibis."""
    if isinstance(relation, ir.Table):
        return relation
    if isinstance(relation, pa.Table):
        return ibis.memtable(relation)
    if hasattr(relation, "sql_query"):  # duckdb.DuckDBPyRelation
        return con.sql(relation.sql_query())
    if hasattr(relation, "identifier") and hasattr(relation, "schema"):  # dbt.this
        return con.table(relation.identifier, database=(relation.database, relation.schema))
    raise TypeError(f"cannot read {type(relation).__name__} as a table")


# -- texts ---------------------------------------------------------------------------------------------------------
def normalised_text(text: ir.StringValue) -> ir.StringValue:
    """`normalise_text` in the warehouse: whitespace runs collapsed to one space, ends stripped."""
    return text.re_replace(WHITESPACE_RUN, " ").strip()


def hashed_text(normalised: ir.StringValue) -> ir.StringValue:
    """`text_hash` in the warehouse: sha256 (hex) of the normalised text's UTF-8 bytes."""
    return normalised.hexdigest("sha256")


def customer_texts(interactions: ir.Table, types: Iterable[str] = TEXT_INTERACTION_TYPES) -> ir.Table:
    """The interactions carrying customer text, with the text normalised and hashed.

    Columns: interaction_id, customer_id, occurred_at, interaction_type, channel, category, value, text (the
    normalised text), text_hash. Every interaction of `types` with a text is kept, even one that normalises to
    nothing (the model scores it as undetermined and neutral), so that each has exactly one row of signals.
    """
    rows = interactions.filter(interactions.interaction_type.isin(list(types)), interactions.text.notnull())
    rows = rows.mutate(text=normalised_text(rows.text))
    return rows.select(
        "interaction_id",
        "customer_id",
        "occurred_at",
        "interaction_type",
        "channel",
        "category",
        "value",
        "text",
        text_hash=hashed_text(rows.text),
    )


def texts_to_score(texts: ir.Table, cache: ir.Table | None, model_version: str) -> ir.Table:
    """Distinct texts (text_hash, text) that the cache holds no row for under `model_version`."""
    distinct = texts.select("text_hash", "text").distinct()  # one text per hash: the hash is of the text
    if cache is None:
        return distinct
    scored = cache.filter(cache.model_version == model_version).select("text_hash")
    return distinct.anti_join(scored, "text_hash")


def score_new_texts(new: pa.Table, model: Any, scored_at: datetime | None = None) -> pa.Table:
    """Cache rows (`CACHE_SCHEMA`) for `new` (text_hash, text, normalised): the model's signals, `scored_at` added.

    `text_hash` stays the warehouse's (the key the other models join on); the model sees the same normalised text.
    """
    scored_at = scored_at or datetime.now(timezone.utc).replace(tzinfo=None)
    if new.num_rows == 0:
        return CACHE_SCHEMA.empty_table()
    signals = model.score(new["text"].to_pylist())
    if signals.num_rows != new.num_rows:
        raise RuntimeError(f"the text model returned {signals.num_rows} rows for {new.num_rows} texts")
    signals = signals.select(SIGNAL_NAMES).cast(SIGNAL_SCHEMA)
    signals = signals.set_column(0, "text_hash", new["text_hash"].cast(pa.string()))
    stamp = pa.array(np.full(new.num_rows, np.datetime64(scored_at, "us")), type=pa.timestamp("us"))
    return signals.append_column(CACHE_SCHEMA.field("scored_at"), stamp)


def update_scoring_cache(
    interactions: ir.Table,
    cache: ir.Table | None,
    model: Any,
    scored_at: datetime | None = None,
) -> pa.Table:
    """The rows to add to the scoring cache: every distinct customer text not yet scored by `model.version`."""
    texts = customer_texts(interactions)
    new = texts_to_score(texts, cache, model.version).to_pyarrow()
    if new.num_rows == 0 and cache is None and texts.count().to_pyarrow().as_py() == 0:
        status.report(
            "text_scoring",
            "skipped",
            "no customer text in the data (ticket messages, chats, call transcripts, survey comments, reviews, "
            "social mentions): text signals are empty",
            counts={"texts": 0},
            fix="land a table with customer text, e.g. ticket_messages or reviews",
        )
    else:
        status.report(
            "text_scoring", "ok", f"{new.num_rows:,} new distinct texts scored", counts={"new_texts": new.num_rows}
        )
    return score_new_texts(new, model, scored_at)


def current_signals(cache: ir.Table, model_version: str) -> ir.Table:
    """The cache rows of `model_version`: one per text_hash."""
    return cache.filter(cache.model_version == model_version).select(*SIGNAL_NAMES)


def interaction_signals(texts: ir.Table, cache: ir.Table, model_version: str) -> ir.Table:
    """One row per customer text interaction with its generic signals (and its normalised text)."""
    signals = current_signals(cache, model_version)
    joined = texts.inner_join(signals, "text_hash")
    return joined.select(*[n for n, _ in INTERACTION_COLUMNS], "category", "value", "text", *SIGNAL_NAMES)


# -- the company's own sentiment models ------------------------------------------------------------------------------
# What `domain.fit_domain_sentiment` is given: the rated text, its language and time, where the rating comes from,
# the rating's label and the generic model's label and score.
FIT_COLUMNS = ["text", "language", "occurred_at", "source", "rating_label", "generic_label", "generic_score"]


def rated_texts(signals: ir.Table) -> ir.Table:
    """Texts that come with the customer's own rating: reviews (1-5 stars) and survey comments (NPS 0-10, CSAT 1-5).

    Columns: text_hash, text, language, occurred_at, source ('review', 'nps' or 'csat'), score, generic_label,
    generic_score.
    """
    source = ibis.cases(
        (signals.interaction_type == "review", ibis.literal("review")),
        (
            (signals.interaction_type == "survey_response") & signals.category.isin(["nps", "csat"]),
            signals.category,
        ),
        else_=ibis.null(),
    )
    rows = signals.mutate(source=source)
    rows = rows.filter(rows.source.notnull(), rows.value.notnull())
    return rows.select(
        "text_hash",
        "text",
        "language",
        "occurred_at",
        "source",
        score=rows.value.cast("float64"),
        generic_label=rows.sentiment_label,
        generic_score=rows.sentiment_score,
    ).order_by("occurred_at", "text_hash")


def label_ratings(rated: pa.Table, rating_to_label: Callable[[str, float], str | None] | None = None) -> pa.Table:
    """`rated` with `rating_label` (negative, neutral or positive) from each (source, score) pair's rule.

    The rule (`domain.rating_to_label`) runs once per distinct pair (a few dozen at most), then joins back.
    """
    if rating_to_label is None:
        from empathy.text.domain import rating_to_label
    pairs = rated.select(["source", "score"]).group_by(["source", "score"]).aggregate([])
    labels = pa.array(
        [rating_to_label(s, v) for s, v in zip(pairs["source"].to_pylist(), pairs["score"].to_pylist(), strict=True)],
        type=pa.string(),
    )
    pairs = pairs.append_column("rating_label", labels)
    labelled = rated.join(pairs, ["source", "score"], join_type="left outer")
    order = ["occurred_at", "text_hash", "source", "score"]  # a total order: the fit sees the same rows alike
    return labelled.sort_by([(c, "ascending") for c in order])


def _fingerprint(table: pa.Table) -> str:
    """sha256 of the table's Arrow IPC stream: equal contents, equal fingerprints."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table.combine_chunks())
    return hashlib.sha256(sink.getvalue()).hexdigest()


_FITTED: dict[str, Any] = {}


def fit_domain_models(rated: pa.Table, fit: Callable[[pa.Table], Any] | None = None) -> Any:
    """The company's own sentiment models, fitted on `rated` (see `label_ratings`).

    Fitting is deterministic; the fit is kept per process for the same input, so the evaluations mart and
    fct_text_signals, built in one dbt run, share one fit.
    """
    if fit is None:
        from empathy.text.domain import fit_domain_sentiment as fit
    key = f"{_fingerprint(rated)}:{getattr(fit, '__module__', '')}.{getattr(fit, '__qualname__', '')}:{id(fit)}"
    if key not in _FITTED:
        _FITTED.clear()
        _FITTED[key] = fit(rated)
    return _FITTED[key]


def domain_models(signals: ir.Table, fit: Callable | None = None, rating_to_label: Callable | None = None) -> Any:
    """The fitted company sentiment models (`domain.DomainSentiment`) for the rated texts among `signals`."""
    rated = label_ratings(rated_texts(signals).to_pyarrow(), rating_to_label)
    return fit_domain_models(rated.select(FIT_COLUMNS), fit)


def sentiment_model_evaluations(
    interactions: ir.Table,
    cache: ir.Table,
    model_version: str,
    fit: Callable | None = None,
    rating_to_label: Callable | None = None,
) -> pa.Table:
    """fct_sentiment_model_evaluations: the domain models' evaluations, one row per language, with the
    generic model's version they were compared with."""
    signals = interaction_signals(customer_texts(interactions), cache, model_version)
    evaluations = domain_models(signals, fit, rating_to_label).evaluations()
    _report_evaluations(evaluations)
    version = pa.array([model_version] * evaluations.num_rows, type=pa.string())
    return evaluations.append_column("generic_model_version", version)


def _report_evaluations(evaluations: pa.Table) -> None:
    if evaluations.num_rows == 0:
        status.report(
            "company_sentiment",
            "skipped",
            "no text comes with the customer's own rating (reviews with stars, NPS or CSAT answers with a comment): "
            "the generic text model's sentiment is used everywhere",
            counts={"languages": 0},
            fix="reviews with ratings, or survey answers with a comment",
        )
        return
    rows = evaluations.select(["language", "chosen_model"]).to_pylist()
    chosen = {r["language"]: r["chosen_model"] for r in rows}
    status.report(
        "company_sentiment",
        "ok",
        "chosen per language: " + ", ".join(f"{k} {v}" for k, v in sorted(chosen.items(), key=lambda kv: str(kv[0]))),
        counts={"languages": len(chosen)},
    )


def domain_chosen(evaluations: ir.Table | pa.Table | None) -> bool:
    """Whether the evaluations chose a company model for some language (the pooled row, 'all', is not a language)."""
    if evaluations is None:
        return False
    if isinstance(evaluations, ir.Table):
        evaluations = evaluations.select("language", "chosen_model").to_pyarrow()
    chosen = pc.and_(
        pc.equal(evaluations["chosen_model"], DOMAIN_MODEL), pc.not_equal(evaluations["language"], POOLED_LANGUAGE)
    )
    return bool(pc.any(chosen).as_py())


# -- language: the customer's and the company's priors for texts the detector is unsure of -----------------------------
def word_count(text: ir.StringValue) -> ir.IntegerValue:
    """`language.word_count` of a normalised text (single spaces, no ends): its spaces plus one, 0 when empty."""
    return ibis.ifelse(text.length() == 0, 0, text.length() - text.replace(" ", "").length() + 1)


def declared_languages(customers: ir.Table) -> ir.Table:
    """customer_id, declared: each customer's declared language (`language`, else `locale`'s) when the model knows it."""
    code = customers.language.cast("string") if "language" in customers.columns else ibis.null("string")
    if "locale" in customers.columns:
        code = code.fill_null(customers.locale.cast("string"))
    base = code.strip().lower().replace("_", "-").split("-")[0]
    declared = ibis.ifelse(base.isin(list(lang.LANGUAGES)), base, ibis.null("string"))
    return customers.select("customer_id", declared=declared)


def signals_mix(signals: ir.Table, switch_confidence: float) -> dict[str, float]:
    """The company's language mix (`language.company_mix`) over its customer texts' detected languages."""
    detected = signals.detected_language.fill_null(signals.language)
    confident = signals.filter(
        word_count(signals.text) > lang.SHORT_TEXT_WORDS,
        detected != lang.UNDETERMINED,
        signals.language_confidence >= switch_confidence,
    )
    counts = confident.group_by(language=detected).aggregate(n=ibis._.count()).to_pyarrow().to_pylist()
    return lang.mix_from_counts({r["language"]: r["n"] for r in counts})


def resolve_signal_languages(
    signals: ir.Table, declared: ir.Table | None, mix: dict[str, float], switch_confidence: float
) -> ir.Table:
    """`signals` with language and language_source by `language.resolve_language`, in the warehouse: the
    detector's language where it is sure, else the customer's declared one, else the company's main language."""
    customer = ibis.null("string")
    if declared is not None:
        signals = signals.left_join(declared, "customer_id").drop("customer_id_right")
        customer = signals.declared
    detected = signals.detected_language.fill_null(signals.language)
    strong = (detected != lang.UNDETERMINED) & (signals.language_confidence >= switch_confidence)
    main = lang.main_language(mix)
    company_languages = [k for k, share in mix.items() if share >= lang.MIX_MIN_SHARE]
    use_company = (
        ibis.literal(main is not None) & (detected != (main or "")) & ~detected.isin(company_languages or [""])
    )
    language = ibis.cases(
        (strong, detected), (customer.notnull(), customer), (use_company, ibis.literal(main or "")), else_=detected
    )
    source = ibis.cases(
        (strong | (language == detected), ibis.literal(lang.DETECTED)),
        (customer.notnull(), ibis.literal(lang.CUSTOMER)),
        else_=ibis.literal(lang.COMPANY_MIX),
    )
    out = signals.mutate(language=language, detected_language=detected, language_source=source)
    return out.drop("declared") if declared is not None else out


def rescore_changed_heads(signals: pa.Table, cached_language: pa.ChunkedArray, model: Any, switch: float) -> pa.Table:
    """Signals of the texts whose language moved into or out of English, scored again with the head of their
    language (the cache scored them as the detector placed them); other rows unchanged."""
    moved = pc.not_equal(pc.equal(signals["language"], "en"), pc.equal(cached_language, "en"))
    if model is None or not pc.any(moved).as_py():
        return signals
    rows = signals.filter(moved).select(["text_hash", "text", "language"]).group_by(["text_hash", "text", "language"])
    rows = rows.aggregate([])
    rescored = model.score(rows["text"].to_pylist(), lang.LanguagePrior(rows["language"].to_pylist(), None, switch))
    keep = ["language", "detected_language", "language_confidence", "language_source", "text_hash"]
    redo = [n for n in SIGNAL_NAMES if n not in keep]
    by_key = pa.table({"text_hash": rows["text_hash"], "language": rows["language"], **{n: rescored[n] for n in redo}})
    index = pa.table(
        {"text_hash": signals["text_hash"], "language": signals["language"], "_row": np.arange(len(signals))}
    )
    joined = index.join(by_key, ["text_hash", "language"], join_type="left outer").sort_by("_row")
    for name in redo:
        column = pc.if_else(moved, joined[name].cast(signals.schema.field(name).type), signals[name])
        signals = signals.set_column(signals.schema.get_field_index(name), name, column)
    return signals


def text_signals(
    interactions: ir.Table,
    cache: ir.Table,
    model_version: str,
    evaluations: ir.Table | pa.Table | None = None,
    fit: Callable | None = None,
    rating_to_label: Callable | None = None,
    customers: ir.Table | None = None,
    text_model: Any = None,
    switch_confidence: float = lang.SWITCH_CONFIDENCE,
) -> pa.Table:
    """fct_text_signals: one row per customer text interaction (`TEXT_SIGNALS_SCHEMA`).

    Each text's language leans on its customer's declared language (`customers`) and the company's mix where the
    detector is unsure (`resolve_signal_languages`); texts moved into or out of English are scored again by
    `text_model` with their language's heads. The company models are (re)fitted only when `evaluations` chose one for
    some language; the fit is the one the evaluations were computed from (same input, deterministic, shared
    within a process).
    """
    signals = interaction_signals(customer_texts(interactions), cache, model_version)
    mix = signals_mix(signals, switch_confidence)
    declared = declared_languages(customers) if customers is not None else None
    resolved = resolve_signal_languages(signals, declared, mix, switch_confidence).to_pyarrow()
    # the cache scored every text without a prior: its language is the detected one
    resolved = rescore_changed_heads(resolved, resolved["detected_language"], text_model, switch_confidence)
    domain = domain_models(signals, fit, rating_to_label) if domain_chosen(evaluations) else None
    return apply_domain_models(resolved, domain)


def apply_domain_models(signals: pa.Table, domain: Any) -> pa.Table:
    """`TEXT_SIGNALS_SCHEMA` rows: where a language's domain model won, its sentiment replaces the generic one.

    `signals` holds the columns of `interaction_signals` (normalised `text` included). The generic sentiment is
    kept in `generic_sentiment_*`; `sentiment_model` says which model the sentiment columns come from
    ('generic' or the domain model's name). Each distinct text is scored once by the domain models.
    """
    n = signals.num_rows
    columns = [*SENTIMENT_COLUMNS, "sentiment_model"]
    types = {c: SIGNAL_SCHEMA.field(c).type for c in SENTIMENT_COLUMNS} | {"sentiment_model": pa.string()}
    if domain is not None and n:
        # one text and one language per hash: the detector's, per text, as the company models were fitted on it
        # (the published `language` leans on each writer's declared language, so one text may have several)
        language = signals["language"]
        if "detected_language" in signals.column_names:
            language = pc.coalesce(signals["detected_language"], language)
        keyed = pa.table({"text_hash": signals["text_hash"], "text": signals["text"], "lang": language})
        distinct = keyed.group_by(["text_hash", "text", "lang"]).aggregate([])
        scored = domain.score(distinct["text"].to_pylist(), distinct["lang"].to_pylist())
        by_text = pa.table({"text_hash": distinct["text_hash"], **{f"domain_{c}": scored[c] for c in columns}})
        rows = pa.table({"text_hash": signals["text_hash"], "_row": pa.array(np.arange(n))})
        joined = rows.join(by_text, "text_hash", join_type="left outer").sort_by("_row")
        chosen = {c: joined[f"domain_{c}"].cast(types[c]) for c in columns}
    else:
        chosen = {c: pa.nulls(n, types[c]) for c in columns}
    use_domain = pc.is_valid(chosen["sentiment_model"])
    out = {name: signals[name] for name, _ in INTERACTION_COLUMNS}
    for name in SIGNAL_NAMES:
        out[name] = pc.if_else(use_domain, chosen[name], signals[name]) if name in SENTIMENT_COLUMNS else signals[name]
    for name in SENTIMENT_COLUMNS:
        out[f"generic_{name}"] = signals[name]
    out["sentiment_model"] = pc.if_else(use_domain, chosen["sentiment_model"], GENERIC_MODEL)
    return pa.table({f.name: out[f.name] for f in TEXT_SIGNALS_SCHEMA}).cast(TEXT_SIGNALS_SCHEMA)


# -- themes ----------------------------------------------------------------------------------------------------------
def themes_as_of(texts: ir.Table, as_of_date: str | None) -> datetime | None:
    """The report's 'now': the end of the day of the var `as_of_date` when set, else the end of the latest
    text's day (so a late or replayed load still compares its own last weeks); None without texts."""
    if as_of_date and str(as_of_date).lower() not in ("none", "null", ""):
        return datetime.strptime(str(as_of_date)[:10], "%Y-%m-%d") + timedelta(days=1)
    latest = texts.occurred_at.max().to_pyarrow().as_py()
    if latest is None:
        return None
    return datetime(latest.year, latest.month, latest.day) + timedelta(days=1)


def embed_distinct(texts: pa.Table, embed: Callable[[list[str]], np.ndarray]) -> np.ndarray:
    """Embeddings of `texts` (text_hash, text) row by row, each distinct text embedded once."""
    hashes = texts["text_hash"]
    distinct = pc.unique(hashes)
    first = pc.index_in(distinct, value_set=hashes)  # first row of each distinct hash
    vectors = embed(texts["text"].take(first).to_pylist())
    return vectors[pc.index_in(hashes, value_set=distinct).to_numpy()]


THEME_EXTRA_COLUMNS: list[tuple[str, pa.DataType]] = [
    ("n_customers", pa.int64()),
    ("mean_sentiment", pa.float64()),
    ("negative_share", pa.float64()),
    ("as_of", pa.timestamp("us")),
    ("model_version", pa.string()),
]


def text_themes(
    interactions: ir.Table,
    text_signals: ir.Table,
    model: Any,
    as_of_date: str | None = None,
    recent_days: int = 28,
    find: Callable | None = None,
) -> pa.Table:
    """rpt_text_themes: the themes of the customer texts written before the as-of time (see `themes_as_of`).

    `themes.find_themes` clusters the texts' embeddings (each distinct text embedded once) and names the themes;
    each theme then gets how many customers wrote in it and its texts' mean sentiment and negative share (from
    fct_text_signals, i.e. the company's own sentiment model where it won), the as-of time and the model version.
    """
    if find is None:
        from empathy.text.themes import find_themes as find
    texts = customer_texts(interactions)
    as_of = themes_as_of(texts, as_of_date)
    if as_of is not None:
        texts = texts.filter(texts.occurred_at < as_of)
    sentiment = text_signals.select("interaction_id", "sentiment_score", "sentiment_label")
    rows = (
        texts.left_join(sentiment, "interaction_id")
        .select(
            "interaction_id", "customer_id", "occurred_at", "text_hash", "text", "sentiment_score", "sentiment_label"
        )
        .order_by("occurred_at", "interaction_id")
        .to_pyarrow()
    )
    embeddings = embed_distinct(rows, model.embedder.embed)
    found = find(rows["text"], embeddings, rows["occurred_at"], recent_days=recent_days, as_of=as_of)
    per_text = pa.table(
        {
            "theme_id": found.assignments["theme_id"],
            "customer_id": rows["customer_id"],
            "sentiment_score": rows["sentiment_score"],
            "is_negative": pc.cast(pc.equal(rows["sentiment_label"], "negative"), pa.float64()),
        }
    ).filter(pc.is_valid(found.assignments["theme_id"]))
    per_theme = per_text.group_by("theme_id", use_threads=False).aggregate(
        [("customer_id", "count_distinct"), ("sentiment_score", "mean"), ("is_negative", "mean")]
    )
    themes = found.themes
    at = pc.index_in(themes["theme_id"], value_set=per_theme["theme_id"])  # align with the themes' rows
    for column, source in (
        ("n_customers", "customer_id_count_distinct"),
        ("mean_sentiment", "sentiment_score_mean"),
        ("negative_share", "is_negative_mean"),
    ):
        themes = themes.append_column(column, per_theme[source].take(at))
    n = themes.num_rows
    themes = themes.append_column("as_of", pa.array([as_of] * n, type=pa.timestamp("us")))
    themes = themes.append_column("model_version", pa.array([model.version] * n, type=pa.string()))
    schema = pa.schema([*found.themes.schema, *[pa.field(c, t) for c, t in THEME_EXTRA_COLUMNS]])
    if n == 0:
        status.report(
            "themes",
            "skipped",
            f"{rows.num_rows:,} customer texts before {as_of}: too few to find themes",
            counts={"texts": rows.num_rows},
            fix="more customer texts (a few hundred distinct ones)",
        )
    else:
        status.report("themes", "ok", f"{n} themes in {rows.num_rows:,} texts", counts={"texts": rows.num_rows})
    return themes.select(schema.names).cast(schema)


__all__ = [
    "CACHE_SCHEMA",
    "TEXT_INTERACTION_TYPES",
    "TEXT_SIGNALS_SCHEMA",
    "apply_domain_models",
    "as_table",
    "backend",
    "customer_texts",
    "domain_models",
    "embed_distinct",
    "fit_domain_models",
    "interaction_signals",
    "label_ratings",
    "rated_texts",
    "score_new_texts",
    "sentiment_model_evaluations",
    "text_signals",
    "text_themes",
    "texts_to_score",
    "themes_as_of",
    "update_scoring_cache",
]
