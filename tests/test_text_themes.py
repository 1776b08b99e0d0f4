"""Themes and emerging themes (`empathy.text.themes`), on planted clusters built here."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest
from sklearn.metrics import adjusted_rand_score

from empathy.text.themes import (
    ASSIGNMENT_SCHEMA,
    THEME_SCHEMA,
    assign_themes,
    class_tfidf_terms,
    default_n_themes,
    discover_themes,
    find_themes,
)

DIMS = 16
AS_OF = datetime(2026, 6, 1)
# each planted theme: its own words (Portuguese / Spanish / English mixed), stop words and shared filler around them
PLANTED = {
    "delivery": ["entrega", "atrasada", "correio", "transportadora"],
    "billing": ["cobrança", "fatura", "duplicada", "reembolso"],
    "app": ["aplicativo", "login", "travando", "senha"],
    "outage": ["apagón", "caída", "servidor", "conexión"],
}
FILLER = ["pedido", "cliente", "ontem", "hoje", "ainda"]
STOP = ["o", "a", "de", "que", "não", "el", "la", "the", "and", "is"]


def planted(themes: dict[str, tuple[int, float, float]], seed: int = 0):
    """Texts, embeddings, times and true theme per text. `themes`: name -> (count, first day, last day before AS_OF)."""
    fixed = np.random.default_rng(1234)  # the same theme centres whatever the seed
    centres = {name: fixed.normal(size=DIMS) for name in PLANTED}
    centres = {name: 6.0 * c / np.linalg.norm(c) for name, c in centres.items()}
    rng = np.random.default_rng(seed)
    texts, vectors, times, truth = [], [], [], []
    for name, (count, first, last) in themes.items():
        for _ in range(count):
            words = [*rng.choice(PLANTED[name], size=3), *rng.choice(FILLER, size=2), *rng.choice(STOP, size=3)]
            rng.shuffle(words)
            texts.append(" ".join(words))
            vectors.append(centres[name] + rng.normal(scale=0.5, size=DIMS))
            times.append(AS_OF - timedelta(days=float(rng.uniform(last, first))))
            truth.append(name)
    order = rng.permutation(len(texts))
    return (
        [texts[i] for i in order],
        np.asarray(vectors, dtype=np.float32)[order],
        pa.array([times[i] for i in order], type=pa.timestamp("us")),
        [truth[i] for i in order],
    )


def by_planted(themes: pa.Table, assignments: pa.Table, truth: list[str]) -> dict[str, dict]:
    """The theme row holding most of each planted theme's texts."""
    ids = np.array(assignments["theme_id"].to_pylist())
    truth = np.array(truth)
    rows = {r["theme_id"]: r for r in themes.to_pylist()}
    return {name: rows[int(np.bincount(ids[truth == name]).argmax())] for name in set(truth)}


def test_planted_clusters_are_recovered_and_named():
    texts, vectors, times, truth = planted({"delivery": (120, 120, 0), "billing": (90, 120, 0), "app": (60, 120, 0)})
    found = find_themes(texts, vectors, times, n_themes=3, as_of=AS_OF)
    assert found.themes.schema == THEME_SCHEMA and found.assignments.schema == ASSIGNMENT_SCHEMA
    assert found.themes.num_rows == 3
    ids = found.assignments["theme_id"].to_pylist()
    assert adjusted_rand_score(truth, ids) > 0.99
    # largest first, counts add up, and each label is made of its own planted words (no stop word, no filler)
    assert found.themes["n_texts"].to_pylist() == [120, 90, 60]
    for name, row in by_planted(found.themes, found.assignments, truth).items():
        assert len(row["top_terms"]) == 5
        assert set(row["top_terms"][:4]) == set(PLANTED[name]), (name, row["top_terms"])
        assert row["theme_label"] == ", ".join(row["top_terms"])
        assert set(row["example_text"].split()) & set(PLANTED[name])


def test_stop_words_never_name_a_theme():
    # the stop words are the most distinctive words of the first cluster, and must still not name it
    texts = ["não é que entrega", "the and não para entrega", "pero que no entrega", "fatura", "fatura cobrança"]
    labels = np.array([0, 0, 0, 1, 1])
    assert class_tfidf_terms(texts, labels, 2, 3) == [["entrega"], ["fatura", "cobrança"]]


def test_emerging_theme_is_flagged_and_stable_ones_are_not():
    # outage exists only in the last 10 days; delivery and billing all along
    texts, vectors, times, truth = planted(
        {"delivery": (300, 200, 0), "billing": (200, 200, 0), "outage": (40, 10, 0)}, seed=1
    )
    themes = discover_themes(texts, vectors, times, n_themes=3, as_of=AS_OF, recent_days=28)
    assignments = assign_themes(texts, vectors, times, n_themes=3, as_of=AS_OF, recent_days=28)
    rows = by_planted(themes, assignments, truth)
    outage, delivery, billing = rows["outage"], rows["delivery"], rows["billing"]
    assert outage["is_emerging"] and outage["n_earlier"] == 0 and outage["n_recent"] == 40
    assert outage["growth_ratio"] is None and outage["share_earlier"] == 0.0
    assert not delivery["is_emerging"] and not billing["is_emerging"]
    assert delivery["growth_ratio"] < 1.5
    recent = sum(r["n_recent"] for r in rows.values())
    assert outage["share_recent"] == pytest.approx(40 / recent)
    assert sum(r["n_recent"] + r["n_earlier"] for r in rows.values()) == len(texts)


def test_growing_theme_is_flagged_by_its_growth_ratio():
    # billing: 60 texts over 200 days (few per day), then 40 more in the last 28 days; delivery steady
    texts, vectors, times, truth = planted({"delivery": (400, 200, 0), "billing": (60, 200, 28)}, seed=2)
    t2, v2, tm2, tr2 = planted({"billing": (40, 27, 0)}, seed=3)
    themes = find_themes(
        texts + t2,
        np.vstack([vectors, v2]),
        pa.concat_arrays([times, tm2]),
        n_themes=2,
        as_of=AS_OF,
    )
    rows = by_planted(themes.themes, themes.assignments, truth + tr2)
    billing, delivery = rows["billing"], rows["delivery"]
    assert billing["n_earlier"] == 60 and billing["n_recent"] == 40
    expected = (billing["n_recent"] / (billing["n_recent"] + delivery["n_recent"])) / (
        billing["n_earlier"] / (billing["n_earlier"] + delivery["n_earlier"])
    )
    assert billing["growth_ratio"] == pytest.approx(expected) and expected > 1.5
    assert billing["is_emerging"] and not delivery["is_emerging"]


def test_too_few_recent_texts_are_not_a_trend():
    texts, vectors, times, truth = planted({"delivery": (200, 200, 0), "outage": (8, 10, 0)}, seed=4)
    rows = by_planted(*_both(texts, vectors, times, n_themes=2, as_of=AS_OF), truth)
    assert rows["outage"]["n_recent"] == 8 and rows["outage"]["n_earlier"] == 0
    assert not rows["outage"]["is_emerging"]


def test_without_an_earlier_period_nothing_emerges():
    texts, vectors, times, _ = planted({"delivery": (50, 20, 0), "outage": (40, 10, 0)}, seed=5)
    themes = discover_themes(texts, vectors, times, n_themes=2, as_of=AS_OF)
    assert themes["n_earlier"].to_pylist() == [0, 0] and themes["share_earlier"].null_count == 2
    assert not any(themes["is_emerging"].to_pylist())


def _both(texts, vectors, times, **options):
    found = find_themes(texts, vectors, times, **options)
    return found.themes, found.assignments


def test_default_number_of_themes():
    assert [default_n_themes(n) for n in (0, 100, 800, 5000, 45000, 10**6)] == [4, 4, 4, 10, 30, 30]


def test_fewer_texts_than_themes():
    texts = ["entrega atrasada", "fatura duplicada", "login travando"]
    vectors = np.eye(3, DIMS, dtype=np.float32)
    themes, assignments = _both(texts, vectors, [AS_OF - timedelta(days=d) for d in (1, 2, 3)], n_themes=10)
    assert themes.num_rows == 3 and sorted(assignments["theme_id"].to_pylist()) == [0, 1, 2]
    assert themes["n_texts"].to_pylist() == [1, 1, 1]


def test_repeated_texts_and_unusable_rows():
    texts = ["ok"] * 30 + ["entrega atrasada"] * 5 + ["", "sem vetor"]
    vectors = np.vstack(
        [
            np.tile(np.eye(1, DIMS, 0), (30, 1)),
            np.tile(np.eye(1, DIMS, 1), (5, 1)),
            np.ones((1, DIMS)),
            np.zeros((1, DIMS)),
        ]
    ).astype(np.float32)
    times = [AS_OF - timedelta(days=1)] * len(texts)
    themes, assignments = _both(texts, vectors, times)  # default n_themes (4) > 2 distinct vectors
    assert themes["n_texts"].to_pylist() == [30, 5]
    assert themes["example_text"].to_pylist() == ["ok", "entrega atrasada"]
    ids = assignments["theme_id"].to_pylist()
    assert ids[:35] == [0] * 30 + [1] * 5 and ids[35:] == [None, None]  # blank text, zero vector: not clustered


def test_new_texts_are_assigned_to_the_nearest_theme():
    texts, vectors, times, truth = planted({"delivery": (100, 100, 0), "billing": (100, 100, 0)}, seed=6)
    found = find_themes(texts, vectors, times, n_themes=2, as_of=AS_OF)
    rows = by_planted(found.themes, found.assignments, truth)
    _, new_vectors, _, new_truth = planted({"billing": (5, 1, 0), "delivery": (5, 1, 0)}, seed=7)
    assigned = found.assign(new_vectors)["theme_id"].to_pylist()
    assert assigned == [rows[name]["theme_id"] for name in new_truth]


def test_deterministic_for_a_seed():
    texts, vectors, times, _ = planted({"delivery": (100, 60, 0), "billing": (80, 60, 0), "app": (60, 60, 0)}, seed=8)
    first = discover_themes(texts, vectors, times, seed=3, as_of=AS_OF)
    assert first.equals(discover_themes(texts, vectors, times, seed=3, as_of=AS_OF))


def test_empty_input():
    themes = discover_themes([], np.zeros((0, DIMS), dtype=np.float32), pa.array([], type=pa.timestamp("us")))
    assert themes.num_rows == 0 and themes.schema == THEME_SCHEMA
    assignments = assign_themes([], np.zeros((0, DIMS)), [])
    assert assignments.num_rows == 0 and assignments.schema == ASSIGNMENT_SCHEMA
    # only blank texts: nothing to cluster, one null assignment per text
    found = find_themes(["", "  "], np.ones((2, DIMS)), [AS_OF, AS_OF])
    assert found.themes.num_rows == 0 and found.assignments["theme_id"].to_pylist() == [None, None]


def test_texts_without_dates_belong_to_themes_but_to_no_window():
    texts, vectors, _, _ = planted({"delivery": (30, 10, 0), "billing": (20, 10, 0)}, seed=9)
    themes = discover_themes(texts, vectors, pa.nulls(len(texts), pa.timestamp("us")), n_themes=2)
    assert themes["n_texts"].to_pylist() == [30, 20]
    assert themes["n_recent"].to_pylist() == [0, 0] and themes["n_earlier"].to_pylist() == [0, 0]
    assert themes["share_recent"].null_count == 2 and not any(themes["is_emerging"].to_pylist())


def test_misaligned_inputs_are_rejected():
    with pytest.raises(ValueError, match="embeddings have 2 rows but there are 3 texts"):
        discover_themes(["a", "b", "c"], np.ones((2, DIMS)), [AS_OF] * 3)
    with pytest.raises(ValueError, match="occurred_at has 2 values but there are 3 texts"):
        discover_themes(["a", "b", "c"], np.ones((3, DIMS)), [AS_OF] * 2)
    with pytest.raises(ValueError, match="occurred_at must hold timestamps"):
        discover_themes(["a"], np.ones((1, DIMS)), ["2026-01-01"])
