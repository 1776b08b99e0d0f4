"""Text understanding in the warehouse: empathy.text.warehouse on small inputs, then the text marts end to end.

The unit tests use a fake text model (a `.version` and a `.score()` returning `SIGNAL_SCHEMA` rows) and run the
ibis steps on DuckDB; they need no model artifacts. The end-to-end tests build the small generated world with the
real text model and skip, saying why, only when its artifacts are missing.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import time
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
import yaml
from rich.console import Console

from empathy.text import warehouse as tw
from empathy.text.normalize import normalise_text, text_hash
from empathy.text.schema import EMOTIONS, SIGNAL_COLUMNS, SIGNAL_NAMES, SIGNAL_SCHEMA
from tests.conftest import PROJECT_DIR, make_settings

QUIET = Console(file=open(os.devnull, "w"))  # noqa: SIM115


# -- fakes -------------------------------------------------------------------------------------------------------
class FakeModel:
    """Deterministic stand-in for TextModel: sentiment from a few words, the rest from the text's hash."""

    def __init__(self, version: str = "fake-1"):
        self.version = version
        self.calls: list[list[str]] = []

    def score(self, texts, prior=None):
        texts = [normalise_text(t) for t in texts]
        self.calls.append(texts)
        n = len(texts)
        lower = [t.lower() for t in texts]
        negative = np.array([any(w in t for w in ("late", "refund", "never", "awful", "tarde")) for t in lower])
        positive = np.array([any(w in t for w in ("great", "love", "thanks", "gracias")) for t in lower])
        score = np.where(negative, -0.6, np.where(positive, 0.7, 0.0))
        seeds = np.array([int(hashlib.md5(t.encode()).hexdigest()[:8], 16) for t in texts], dtype=np.float64)
        emotions = np.stack([(seeds // (i + 1)) % 7 + 1 for i in range(len(EMOTIONS))], axis=1).reshape(n, 7)
        emotions = emotions / np.maximum(emotions.sum(axis=1, keepdims=True), 1)
        columns = {
            "text_hash": [text_hash(t) for t in texts],
            "model_version": [self.version] * n,
            "language": ["es" if any(w in t for w in ("tarde", "gracias", "pedido")) else "en" for t in lower],
            "detected_language": ["es" if any(w in t for w in ("tarde", "gracias", "pedido")) else "en" for t in lower],
            "language_confidence": np.full(n, 0.99),
            "language_source": ["detected"] * n,
            "sentiment_score": score,
            "sentiment_label": np.where(negative, "negative", np.where(positive, "positive", "neutral")),
            "sentiment_intensity": np.abs(score),
            **{f"emotion_{e}": emotions[:, i] for i, e in enumerate(EMOTIONS)},
            "dominant_emotion": np.array(EMOTIONS)[emotions.argmax(axis=1)] if n else [],
            "intent": np.where(negative, "complaint", "other") if n else [],
            "intent_confidence": np.full(n, 0.8),
            "complaint_reason": np.where(negative, "delivery", None) if n else [],
            "topic": ["delivery" if "order" in t else "other" for t in lower],
            "topic_confidence": np.full(n, 0.7),
            "emoji_count": np.zeros(n, dtype=np.int32),
            "emoji_sentiment": pa.nulls(n, pa.float64()),
            "has_negation": ["not" in t for t in lower],
            "sarcasm_score": np.full(n, 0.1),
        }
        return pa.table({f.name: pa.array(columns[f.name], type=f.type) for f in SIGNAL_SCHEMA})


class FakeDomain:
    """Stand-in for domain.DomainSentiment: a company model that won for Spanish only."""

    def __init__(self):
        self.scored: list[str] = []

    def evaluations(self):
        return pa.table({"language": ["en", "es", "all"], "chosen_model": ["generic", "domain", "generic"]})

    def score(self, texts, languages):
        self.scored.extend(texts)
        spanish = np.array([lang == "es" for lang in languages])
        n = len(texts)
        return pa.table(
            {
                "sentiment_score": pa.array(np.where(spanish, -0.9, np.nan), mask=~spanish),
                "sentiment_label": pa.array(["negative"] * n, mask=~spanish),
                "sentiment_intensity": pa.array(np.full(n, 0.9), mask=~spanish),
                "sentiment_model": pa.array(["domain:es"] * n, mask=~spanish),
            }
        )


def interactions_table(rows: list[tuple]) -> pa.Table:
    """fct_interactions-like rows: (interaction_id, customer_id, interaction_type, occurred_at, text, value, category)."""
    channels = {"review": "review", "survey_response": "survey", "web_session": "web", "email_open": "email"}
    names = ["interaction_id", "customer_id", "interaction_type", "occurred_at", "text", "value", "category"]
    columns = {n: [r[i] for r in rows] for i, n in enumerate(names)}
    columns["channel"] = [channels.get(t, "ticket") for t in columns["interaction_type"]]
    types = {"occurred_at": pa.timestamp("us"), "value": pa.float64()}
    return pa.table({n: pa.array(v, type=types.get(n, pa.string())) for n, v in columns.items()})


T0 = datetime(2026, 6, 1, 9)
ROWS = [
    ("ticket_message:1", "c1", "ticket_message", T0, "My order is  late\nagain", None, "delivery"),
    ("ticket_message:2", "c2", "ticket_message", T0, " My order is late again ", None, "delivery"),
    ("review:1", "c1", "review", T0, "Great toaster, thanks", 5.0, None),
    ("survey_response:1", "c3", "survey_response", T0, "llegó tarde", 3.0, "nps"),
    ("web_session:1", "c1", "web_session", T0, "jeans | size 42", 4.0, None),
    ("email_open:1", "c1", "email_open", T0, None, None, None),
    ("social_mention:1", None, "social_mention", T0, "love it", None, None),
    ("chat:1", "c2", "chat", T0, "\u00a0\u2003", 12.0, None),
]


class Warehouse:
    """An ibis DuckDB backend whose tables are created from Arrow (as dbt would have built them)."""

    def __init__(self):
        self.db = duckdb.connect()
        self.ibis = tw.backend(self.db)

    def create_table(self, name: str, table: pa.Table, overwrite: bool = False):
        self.db.register("_arrow", table)
        self.db.execute(f"create {'or replace ' if overwrite else ''}table {name} as select * from _arrow")
        self.db.unregister("_arrow")
        return self.ibis.table(name)


@pytest.fixture
def con():
    return Warehouse()


# -- normalisation and hashing in the warehouse ----------------------------------------------------------------------
def test_warehouse_hash_is_text_hash(con):
    texts = ["  a\u00a0\u2028b\t\n c \u3000", "x\x1cy\x85z ", "plain", "é 😍  ok", "\u00a0", "", "Ünïcödé\r\nline"]
    t = con.create_table("t", pa.table({"text": texts}))
    out = t.mutate(n=tw.normalised_text(t.text)).mutate(h=lambda r: tw.hashed_text(r.n)).to_pyarrow()
    assert out["n"].to_pylist() == [normalise_text(x) for x in texts]
    assert out["h"].to_pylist() == [text_hash(x) for x in texts]


def test_customer_texts_keeps_customer_text_types_only(con):
    texts = tw.customer_texts(con.create_table("i", interactions_table(ROWS))).to_pyarrow()
    ids = sorted(texts["interaction_id"].to_pylist())
    # no web sessions (search terms), nothing without text; unlinked mentions and blank-looking texts stay
    assert ids == [
        "chat:1",
        "review:1",
        "social_mention:1",
        "survey_response:1",
        "ticket_message:1",
        "ticket_message:2",
    ]
    rows = {r["interaction_id"]: r for r in texts.to_pylist()}
    assert rows["ticket_message:1"]["text"] == "My order is late again"
    assert (
        rows["ticket_message:1"]["text_hash"]
        == rows["ticket_message:2"]["text_hash"]
        == text_hash("My order is late again")
    )
    assert rows["chat:1"]["text"] == ""


def test_texts_to_score_distinct_and_not_cached(con):
    texts = tw.customer_texts(con.create_table("i", interactions_table(ROWS)))
    todo = tw.texts_to_score(texts, None, "v1").to_pyarrow()
    assert todo.num_rows == 5  # six texts, two identical after normalisation
    assert sorted(todo.column_names) == ["text", "text_hash"]
    cache = con.create_table("cache", pa.table({"text_hash": [text_hash("love it")], "model_version": ["v1"]}))
    todo_v1 = tw.texts_to_score(texts, cache, "v1").to_pyarrow()
    assert todo_v1.num_rows == 4 and text_hash("love it") not in todo_v1["text_hash"].to_pylist()
    assert tw.texts_to_score(texts, cache, "v2").to_pyarrow().num_rows == 5  # another version scores all again


def test_score_new_texts_cache_rows():
    model = FakeModel("v7")
    new = pa.table({"text_hash": ["h1", "h2"], "text": ["order late", "great"]})
    stamp = datetime(2026, 6, 30, 12)
    rows = tw.score_new_texts(new, model, scored_at=stamp)
    assert rows.schema == tw.CACHE_SCHEMA
    assert rows["text_hash"].to_pylist() == ["h1", "h2"]  # the warehouse's key is kept
    assert set(rows["model_version"].to_pylist()) == {"v7"}
    assert set(rows["scored_at"].to_pylist()) == {stamp}
    assert rows["sentiment_label"].to_pylist() == ["negative", "positive"]
    empty = tw.score_new_texts(new.slice(0, 0), model)
    assert empty.schema == tw.CACHE_SCHEMA and empty.num_rows == 0
    assert model.calls == [["order late", "great"]]  # nothing to score: the model is not called


def test_scoring_cache_lifecycle_in_duckdb(tmp_path):
    """Incremental as dbt runs it: append what update_scoring_cache returns, then call it again."""
    db = duckdb.connect(str(tmp_path / "w.duckdb"))
    db.register("interactions_arrow", interactions_table(ROWS))
    db.execute("create table interactions as select * from interactions_arrow")
    con = tw.backend(db.cursor())
    interactions = tw.as_table(con, db.cursor().query("select * from interactions"))

    model = FakeModel("v1")
    first = tw.update_scoring_cache(interactions, None, model)
    assert first.num_rows == 5
    db.register("first", first)
    db.execute("create table cache as select * from first")
    this = type("This", (), {"database": "w", "schema": "main", "identifier": "cache"})()  # like dbt.this
    cache = tw.as_table(con, this)

    assert tw.update_scoring_cache(interactions, cache, model).num_rows == 0  # nothing new: nothing scored
    assert len(model.calls) == 1

    db.execute(
        "insert into interactions select 'ticket_message:3', 'c3', 'ticket_message', timestamp '2026-06-02', "
        "'Where is my refund?', null, null, 'ticket' union all "
        "select 'ticket_message:4', 'c4', 'ticket_message', timestamp '2026-06-02', 'love it', null, null, 'ticket'"
    )
    added = tw.update_scoring_cache(interactions, cache, model)
    assert added["text_hash"].to_pylist() == [text_hash("Where is my refund?")]  # 'love it' was scored before
    db.register("added", added)
    db.execute("insert into cache select * from added")

    rescored = tw.update_scoring_cache(interactions, cache, FakeModel("v2"))
    assert rescored.num_rows == 6 and set(rescored["model_version"].to_pylist()) == {"v2"}


def _signals(con, model=None):
    model = model or FakeModel("v1")
    interactions = con.create_table("i", interactions_table(ROWS), overwrite=True)
    cache = con.create_table("c", tw.update_scoring_cache(interactions, None, model), overwrite=True)
    return interactions, cache, tw.interaction_signals(tw.customer_texts(interactions), cache, model.version)


def test_interaction_signals_one_row_per_text_interaction(con):
    _, _, signals = _signals(con)
    out = signals.to_pyarrow()
    assert out.num_rows == 6
    assert len(set(out["interaction_id"].to_pylist())) == 6


def test_apply_domain_models_replaces_sentiment_where_chosen(con):
    _, _, signals = _signals(con)
    table = signals.to_pyarrow()
    domain = FakeDomain()
    out = tw.apply_domain_models(table, domain)
    assert out.schema == tw.TEXT_SIGNALS_SCHEMA
    rows = {r["interaction_id"]: r for r in out.to_pylist()}
    spanish = rows["survey_response:1"]
    assert spanish["sentiment_model"] == "domain:es"
    assert spanish["sentiment_score"] == -0.9 and spanish["sentiment_label"] == "negative"
    assert spanish["generic_sentiment_score"] == -0.6  # the generic value is kept
    english = rows["review:1"]
    assert english["sentiment_model"] == "generic"
    assert english["sentiment_score"] == english["generic_sentiment_score"] == 0.7
    assert len(domain.scored) == 5  # each distinct text once
    generic_only = tw.apply_domain_models(table, None)
    assert set(generic_only["sentiment_model"].to_pylist()) == {"generic"}
    assert generic_only["sentiment_score"].equals(generic_only["generic_sentiment_score"])


def test_one_text_written_by_customers_of_two_languages_keeps_one_row_each(con):
    """The published language leans on each writer's declared language, so one text can carry two; the company
    models score it once, in the detector's language, and every interaction keeps exactly one row."""
    _, _, signals = _signals(con)
    table = signals.to_pyarrow()
    first = table.column("text_hash")[0].as_py()
    same = pc.equal(table["text_hash"], first)
    table = table.set_column(
        table.schema.get_field_index("language"), "language", pc.if_else(same, "xx", table["language"])
    )
    if "detected_language" not in table.column_names:
        table = table.append_column("detected_language", signals.to_pyarrow()["language"])
    twice = pa.concat_tables(
        [table, table.slice(0, 1).set_column(table.schema.get_field_index("language"), "language", pa.array(["yy"]))]
    )
    out = tw.apply_domain_models(twice, FakeDomain())
    assert out.num_rows == twice.num_rows


def test_rated_texts_and_labels(con):
    _, _, signals = _signals(con)
    rated = tw.rated_texts(signals).to_pyarrow()
    assert sorted(zip(rated["source"].to_pylist(), rated["score"].to_pylist(), strict=True)) == [
        ("nps", 3.0),
        ("review", 5.0),
    ]
    assert set(tw.FIT_COLUMNS) - {"rating_label"} <= set(rated.column_names)
    calls = []

    def rule(source, score):
        calls.append((source, score))
        return "positive" if score >= (4 if source == "review" else 9) else "negative"

    labelled = tw.label_ratings(pa.concat_tables([rated, rated]), rule)
    assert sorted(calls) == [("nps", 3.0), ("review", 5.0)]  # once per (source, score), not per row
    assert sorted(labelled["rating_label"].to_pylist()) == ["negative", "negative", "positive", "positive"]


def test_domain_fit_shared_within_a_process(con):
    _, _, signals = _signals(con)
    fits = []

    def fit(table):
        fits.append(table.num_rows)
        return FakeDomain()

    def rule(source, score):
        return "neutral"

    first = tw.domain_models(signals, fit, rule)
    second = tw.domain_models(signals, fit, rule)
    assert first is second and fits == [2]


def test_text_signals_skip_the_fit_when_nothing_chosen(con):
    interactions, cache, _ = _signals(con)

    def fit(table):
        raise AssertionError("no language chose a company model: nothing to fit")

    evaluations = pa.table({"language": ["en", "all"], "chosen_model": ["generic", "domain"]})
    out = tw.text_signals(interactions, cache, "v1", evaluations, fit=fit)
    assert out.num_rows == 6 and set(out["sentiment_model"].to_pylist()) == {"generic"}


def test_real_domain_model_replaces_generic_sentiment_where_it_wins(con):
    """With empathy.text.domain itself: a generic model that is wrong about 'meh' loses to the ratings."""
    rng = np.random.default_rng(3)
    words = {"positive": "lovely great product", "negative": "awful broken product", "neutral": "meh okay product"}
    rows = []
    for i in range(300):
        label = ["positive", "negative", "neutral"][i % 3]
        stars = {"positive": 5.0, "negative": 1.0, "neutral": 3.0}[label]
        text = f"{words[label]} number {rng.integers(1000)}"
        rows.append((f"review:{i}", f"c{i % 50}", "review", datetime(2026, 1, 1 + i // 12, 10), text, stars, None))
    interactions = con.create_table("i", interactions_table(rows), overwrite=True)

    class SaysPositive(FakeModel):  # a generic model that calls everything positive
        def score(self, texts):
            out = super().score(texts)
            index = out.schema.get_field_index("sentiment_label")
            return out.set_column(index, "sentiment_label", pa.array(["positive"] * out.num_rows))

    model = SaysPositive("v1")
    cache = con.create_table("c", tw.update_scoring_cache(interactions, None, model), overwrite=True)
    evaluations = tw.sentiment_model_evaluations(interactions, cache, "v1")
    chosen = dict(zip(evaluations["language"].to_pylist(), evaluations["chosen_model"].to_pylist(), strict=True))
    assert chosen["en"] == "domain", evaluations.to_pylist()
    assert set(evaluations["generic_model_version"].to_pylist()) == {"v1"}
    out = tw.text_signals(interactions, cache, "v1", evaluations)
    assert set(out["sentiment_model"].to_pylist()) == {"domain:en"}
    labels = dict(zip(out["interaction_id"].to_pylist(), out["sentiment_label"].to_pylist(), strict=True))
    assert labels["review:1"] == "negative" and labels["review:2"] == "neutral"
    assert set(out["generic_sentiment_label"].to_pylist()) == {"positive"}


# -- themes ------------------------------------------------------------------------------------------------------------
class FakeEmbedder:
    """Bag of hashed words in 16 dimensions; records what it embedded."""

    def __init__(self):
        self.embedded: list[str] = []

    def embed(self, texts):
        self.embedded.extend(texts)
        out = np.zeros((len(texts), 16), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().split():
                out[i, int(hashlib.md5(word.encode()).hexdigest(), 16) % 16] += 1
        return out


def test_embed_distinct_embeds_each_text_once():
    embedder = FakeEmbedder()
    rows = pa.table({"text_hash": ["a", "b", "a", "c", "b"], "text": ["x y", "late order", "x y", "z", "late order"]})
    vectors = tw.embed_distinct(rows, embedder.embed)
    assert embedder.embedded == ["x y", "late order", "z"]
    assert vectors.shape == (5, 16)
    assert (vectors[0] == vectors[2]).all() and (vectors[1] == vectors[4]).all()
    assert not (vectors[0] == vectors[1]).all()


def test_themes_as_of(con):
    texts = tw.customer_texts(con.create_table("i", interactions_table(ROWS)))
    assert tw.themes_as_of(texts, "2026-06-30") == datetime(2026, 7, 1)
    assert tw.themes_as_of(texts, None) == tw.themes_as_of(texts, "None") == datetime(2026, 6, 2)


def test_text_themes_with_sentiment_per_theme(con):
    topics = ["my order is late again", "the app crashes on login", "refund not received yet"]
    rows = []
    for i in range(90):
        day = datetime(2026, 5, 1 + i % 30, 10)
        rows.append((f"ticket_message:{i}", f"c{i % 20}", "ticket_message", day, topics[i % 3], None, None))
    interactions = con.create_table("i", interactions_table(rows), overwrite=True)
    model = FakeModel("v1")
    model.embedder = FakeEmbedder()
    cache = con.create_table("c", tw.update_scoring_cache(interactions, None, model), overwrite=True)
    signals = con.create_table("s", tw.text_signals(interactions, cache, "v1"), overwrite=True)
    themes = tw.text_themes(interactions, signals, model, as_of_date="2026-05-29")
    assert model.embedder.embedded == sorted(set(topics), key=topics.index)  # three distinct texts, once each
    assert themes.column_names[-5:] == ["n_customers", "mean_sentiment", "negative_share", "as_of", "model_version"]
    assert len(set(themes["theme_id"].to_pylist())) == themes.num_rows >= 1
    assert sum(themes["n_texts"].to_pylist()) == 87  # the texts of May 30 are after the as-of time
    assert set(themes["as_of"].to_pylist()) == {datetime(2026, 5, 30)}
    for theme in themes.to_pylist():
        assert 0 <= theme["negative_share"] <= 1 and -1 <= theme["mean_sentiment"] <= 1
        assert 1 <= theme["n_customers"] <= 20


# -- the dbt side agrees with the Python side ------------------------------------------------------------------------
def test_sql_coverage_test_lists_the_same_types():
    sql = (PROJECT_DIR / "data-tests" / "assert_text_signals_cover_interactions.sql").read_text()
    listed = re.search(r"interaction_type in \((.*?)\)", sql, re.S).group(1)
    assert tuple(re.findall(r"'(\w+)'", listed)) == tw.TEXT_INTERACTION_TYPES
    yml = yaml.safe_load((PROJECT_DIR / "models" / "marts" / "text" / "_text__models.yml").read_text())
    signals = next(m for m in yml["models"] if m["name"] == "fct_text_signals")
    column = next(c for c in signals["columns"] if c["name"] == "interaction_type")
    accepted = next(t["accepted_values"] for t in column["data_tests"] if isinstance(t, dict))
    assert tuple(accepted["arguments"]["values"]) == tw.TEXT_INTERACTION_TYPES


def test_doc_blocks_follow_the_signal_schema():
    text = (PROJECT_DIR / "models" / "marts" / "text" / "_text__docs.md").read_text()
    blocks = dict(re.findall(r"{% docs (\w+) %}\n(.*?)\n{% enddocs %}", text, re.S))
    from empathy.text.schema import COMPLAINT_REASONS, INTENTS, SENTIMENT_LABELS, TOPICS

    enums = {
        "sentiment_label": SENTIMENT_LABELS,
        "dominant_emotion": EMOTIONS,
        "intent": INTENTS,
        "complaint_reason": COMPLAINT_REASONS,
        "topic": TOPICS,
    }
    for name, _, description in SIGNAL_COLUMNS:
        block = blocks[f"text_signal_{name}"]
        if name in enums:
            assert re.findall(r"^- `(\w+)`$", block, re.M) == list(enums[name]), name
        elif name != "language":
            assert block == description, name


def test_yml_documents_the_signal_columns():
    for path, model, extra in (
        ("intermediate/text/_text__models.yml", "int_text_signals__scored", ["scored_at"]),
        ("marts/text/_text__models.yml", "fct_text_signals", None),
        ("intermediate/text/_text__models.yml", "int_text_signals", None),
    ):
        yml = yaml.safe_load((PROJECT_DIR / "models" / path).read_text())
        columns = [c["name"] for c in next(m for m in yml["models"] if m["name"] == model)["columns"]]
        expected = [*SIGNAL_NAMES, *extra] if extra else tw.TEXT_SIGNALS_SCHEMA.names
        assert columns == list(expected), model


# -- end to end: the text marts on the small generated world --------------------------------------------------------
TEXT_MARTS = ("fct_text_signals", "fct_customer_text_daily", "fct_sentiment_model_evaluations", "rpt_text_themes")
TIMINGS: dict[str, float] = {}


def _text_model_or_skip():
    from empathy.text.model import ModelMissing, load_model

    try:
        return load_model()
    except ModelMissing as exc:
        pytest.skip(f"text model artifacts are missing, so the text marts cannot be built: {exc}")


def _query(path: Path, sql: str, params=None) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _dbt(settings, *args: str) -> float:
    from empathy.dbt import run_dbt

    start = time.monotonic()
    result = run_dbt(settings, list(args))
    assert result.ok, "\n".join(result.failures)
    return time.monotonic() - start


@pytest.fixture(scope="module")
def text_built(request):
    """The whole pipeline (gate, dbt build with the text models and their tests, publish) on the small world: the
    session's shared `small_built` (conftest), read only."""
    _text_model_or_skip()
    settings, summary = request.getfixturevalue("small_built")
    TIMINGS["full run (gate + dbt build + publish)"] = sum(summary.seconds.values())
    TIMINGS["dbt build"] = summary.seconds["dbt_build"]
    return settings, summary


def test_text_marts_build_and_publish(text_built):
    settings, summary = text_built
    assert summary.dbt.count("test", "fail") == 0 and summary.dbt.count("model", "error") == 0
    published = {
        t for (t,) in _query(settings.published, "select table_name from duckdb_tables() where schema_name = 'marts'")
    }
    assert set(TEXT_MARTS) <= published
    n_signals = _query(settings.published, "select count(*) from marts.fct_text_signals")[0][0]
    assert n_signals > 100
    n_evaluations = _query(settings.published, "select count(*) from marts.fct_sentiment_model_evaluations")[0][0]
    assert n_evaluations >= 1


def test_every_customer_text_interaction_has_one_row(text_built):
    settings, _ = text_built
    types = ", ".join(f"'{t}'" for t in tw.TEXT_INTERACTION_TYPES)
    missing, extra, duplicated = _query(
        settings.warehouse,
        f"""
        with expected as (
            select interaction_id from marts.fct_interactions where text is not null and interaction_type in ({types})
        ), actual as (
            select interaction_id, count(*) as n from marts.fct_text_signals group by 1
        )
        select
            (select count(*) from expected anti join actual using (interaction_id)),
            (select count(*) from actual anti join expected using (interaction_id)),
            (select count(*) from actual where n <> 1)
        """,
    )[0]
    assert (missing, extra, duplicated) == (0, 0, 0)
    # every text type of the small world is there, and web sessions (search terms) are not
    present = {t for (t,) in _query(settings.warehouse, "select distinct interaction_type from marts.fct_text_signals")}
    assert {"ticket_message", "review", "survey_response", "social_mention", "chat"} <= present
    assert "web_session" not in present


def test_identical_texts_are_scored_once(text_built):
    settings, _ = text_built
    n_texts, n_distinct, n_cached = _query(
        settings.warehouse,
        """
        select
            count(*),
            count(distinct text_hash),
            (select count(*) from intermediate.int_text_signals__scored)
        from marts.fct_text_signals
        """,
    )[0]
    assert n_distinct < n_texts  # the small world repeats some texts (e.g. social posts, ticket subjects)
    assert n_cached == n_distinct


def test_daily_aggregates_match_a_recomputation(text_built):
    settings, _ = text_built
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        signals = con.execute("select * from marts.fct_text_signals where customer_id is not null").fetch_arrow_table()
        daily = con.execute("select * from marts.fct_customer_text_daily").fetch_arrow_table()
    finally:
        con.close()
    expected: dict[tuple, dict] = {}
    for row in signals.to_pylist():
        key = (row["customer_id"], row["occurred_at"].date())
        expected.setdefault(key, []).append(row)
    assert daily.num_rows == len(expected)
    for got in daily.to_pylist():
        rows = expected[(got["customer_id"], got["activity_date"])]
        scores = [r["sentiment_score"] for r in rows]
        assert got["customer_day_id"] == f"{got['customer_id']}:{got['activity_date'].isoformat()}"
        assert got["n_texts"] == len(rows)
        assert got["mean_sentiment"] == pytest.approx(np.mean(scores))
        assert got["min_sentiment"] == pytest.approx(min(scores))
        assert got["max_sentiment"] == pytest.approx(max(scores))
        assert got["n_negative"] == sum(r["sentiment_label"] == "negative" for r in rows)
        assert got["negative_share"] == pytest.approx(got["n_negative"] / len(rows))
        assert got["n_complaints"] == sum(r["intent"] == "complaint" for r in rows)
        assert got["n_cancellation_intents"] == sum(r["intent"] == "cancellation_intent" for r in rows)
        assert got["n_sarcastic"] == sum(r["sarcasm_score"] >= 0.5 for r in rows)
        for e in EMOTIONS:
            assert got[f"emotion_{e}_mean"] == pytest.approx(np.mean([r[f"emotion_{e}"] for r in rows]))
        assert sum(got[f"emotion_{e}_mean"] for e in EMOTIONS) == pytest.approx(1.0, abs=1e-3)


def test_yml_documents_every_column_of_the_text_models(text_built):
    settings, _ = text_built
    documented = {}
    for path in ("intermediate/text/_text__models.yml", "marts/text/_text__models.yml"):
        for model in yaml.safe_load((PROJECT_DIR / "models" / path).read_text())["models"]:
            documented[model["name"]] = [c["name"] for c in model["columns"]]
    for name in (*TEXT_MARTS, "int_text_signals__scored"):
        actual = [
            c
            for (c,) in _query(
                settings.warehouse,
                "select column_name from duckdb_columns() where table_name = ? order by column_index",
                [name],
            )
        ]
        assert documented[name] == actual, name


def _cache_batches(settings) -> list[tuple]:
    """(model_version, scored_at, rows) per build that scored texts, oldest first."""
    return _query(
        settings.warehouse,
        "select model_version, scored_at, count(*) from intermediate.int_text_signals__scored group by 1, 2 order by 2",
    )


def test_scoring_cache_scores_each_text_once_per_model_version(text_built, tmp_path, monkeypatch):
    """Daily runs score only what is new; a new model version scores every text once more."""
    from empathy.text.model import ARTIFACT_FILES, load_model

    built, _ = text_built
    home = tmp_path / "home"
    shutil.copytree(built.home, home)
    settings = make_settings(home, landing=built.landing)
    text_models = [
        "int_interactions",
        "int_text_signals__scored",
        "int_sentiment_model_evaluations",
        "int_text_signals",
    ]
    before = _cache_batches(settings)
    assert len(before) == 1

    # 1. A second run with no new data scores nothing.
    TIMINGS["rerun, nothing new"] = _dbt(settings, "run", "--select", *text_models)
    assert _cache_batches(settings) == before

    # 2. New texts: only the distinct new one is scored; a copy of a known text (other spacing) is not.
    new_text = "My parcel arrived crushed and nobody answers my e-mails, this is the third time"
    con = duckdb.connect(str(settings.warehouse))
    try:
        known = con.execute(
            "select body from raw.ticket_messages where author_type = 'customer' and body like '% %' limit 1"
        ).fetchone()[0]
        for message_id, body in (("M-NEW-1", new_text), ("M-NEW-2", "  " + known.replace(" ", "   ") + "\n")):
            con.execute(
                """
                insert into raw.ticket_messages
                select ? as message_id, ticket_id, author_type, author_id, sent_at + interval 1 hour, ? as body,
                       _file, _row_number, _batch_id, _run_id, _loaded_at
                from raw.ticket_messages where author_type = 'customer' order by message_id limit 1
                """,
                [message_id, body],
            )
    finally:
        con.close()
    TIMINGS["run with 2 new texts (1 distinct)"] = _dbt(settings, "run", "--select", *text_models)
    after = _cache_batches(settings)
    assert after[:1] == before and len(after) == 2
    assert after[1][2] == 1
    scored_hashes = _query(
        settings.warehouse,
        "select text_hash from intermediate.int_text_signals__scored where scored_at = ?",
        [after[1][1]],
    )
    assert scored_hashes == [(text_hash(new_text),)]
    new_rows = _query(
        settings.warehouse,
        "select interaction_id, text_hash from marts.fct_text_signals "
        "where interaction_id in ('ticket_message:M-NEW-1', 'ticket_message:M-NEW-2') order by 1",
    )
    assert new_rows == [("ticket_message:M-NEW-1", text_hash(new_text)), ("ticket_message:M-NEW-2", text_hash(known))]

    # 3. A new model version (other artifacts) scores every distinct text once more; older rows stay as history.
    current = load_model()
    retrained = tmp_path / "retrained"
    retrained.mkdir()
    for name in ARTIFACT_FILES:
        os.symlink(current.path / name, retrained / name)
    (retrained / "manifest.json").unlink()
    (retrained / "manifest.json").write_text((current.path / "manifest.json").read_text() + "\n")
    monkeypatch.setenv("EMPATHY_TEXT_MODEL", str(retrained))
    TIMINGS["run after a model version change"] = _dbt(settings, "run", "--select", *text_models)
    latest = _cache_batches(settings)
    assert len(latest) == 3 and latest[:2] == after
    new_version, _, n_rescored = latest[2]
    assert new_version != current.version
    n_distinct, versions = _query(
        settings.warehouse, "select count(distinct text_hash), list(distinct model_version) from marts.fct_text_signals"
    )[0]
    assert n_rescored == n_distinct
    assert versions == [new_version]


def test_text_marts_are_empty_and_typed_without_texts(request):
    """A company that sends only customers: every text model builds, empty, with its columns typed."""
    _text_model_or_skip()
    settings, summary = request.getfixturevalue("customers_only_built")  # the small world's customers (conftest)
    assert summary.dbt.count("test", "fail") == 0
    for name in TEXT_MARTS:
        assert _query(settings.published, f"select count(*) from marts.{name}")[0][0] == 0, name
    types = dict(
        _query(
            settings.published,
            "select column_name, data_type from duckdb_columns() where table_name = 'fct_text_signals'",
        )
    )
    assert types["occurred_at"] == "TIMESTAMP" and types["sentiment_score"] == "DOUBLE"
    assert types["emoji_count"] == "INTEGER" and types["has_negation"] == "BOOLEAN"


def test_report_timings(text_built):
    """Not a check: prints the measured timings (pytest -s) for benchmarks and reviews."""
    print("\ntext marts timings (small world, 400 customers x 90 days):")
    for step, seconds in TIMINGS.items():
        print(f"  {step}: {seconds:.1f}s")
