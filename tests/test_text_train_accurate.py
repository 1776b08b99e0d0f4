"""The accurate tier's training helpers that need no PyTorch: targets, the split, batches and padding."""

from __future__ import annotations

import random

import numpy as np
import pytest

from empathy.text.train_accurate import Recipe, Row, _distribution, batches, pad, split_rows


def test_a_comments_labels_share_its_weight():
    classes = ["joy", "anger", "neutral"]
    assert _distribution(["joy"], classes).tolist() == [1.0, 0.0, 0.0]
    assert _distribution(["joy", "anger"], classes).tolist() == [0.5, 0.5, 0.0]
    with pytest.raises(ValueError):
        _distribution(["fear"], classes)


def test_the_tune_slice_is_seeded_and_disjoint():
    rows = [Row(f"text {i}", {}) for i in range(200)]
    recipe = Recipe(limit=None, tune_share=0.1)
    train, tune = split_rows(rows, recipe)
    again, _ = split_rows(rows, recipe)
    assert len(tune) == 20 and len(train) == 180
    assert {r.text for r in train}.isdisjoint(r.text for r in tune)
    assert [r.text for r in train] == [r.text for r in again]
    limited, same_tune = split_rows(rows, Recipe(limit=50, tune_share=0.1))
    assert len(limited) == 50 and [r.text for r in same_tune] == [r.text for r in tune]


def test_batches_cover_every_row_once_in_a_seeded_order():
    lengths = [random.Random(i).randint(3, 64) for i in range(1000)]
    plan = batches(lengths, 32, random.Random(7))
    assert sorted(i for b in plan for i in b) == list(range(1000))
    assert plan == batches(lengths, 32, random.Random(7))
    assert plan != batches(lengths, 32, random.Random(8))
    spread = np.mean([max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in plan])
    assert spread < 10  # rows of similar length share a batch: little padding


def test_pad_right_with_a_mask():
    ids, mask = pad([[101, 7, 102], [101, 102]])
    assert ids.tolist() == [[101, 7, 102], [101, 102, 0]]
    assert mask.tolist() == [[1, 1, 1], [1, 1, 0]]
