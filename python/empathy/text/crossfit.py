"""Cross-fitting: a rated text's published company score comes from a model that never saw that text.

A model refitted on every rated text and then used to score those same texts hands back, in part, the ratings it
memorised: its scores on its own training texts look far better than on texts it has not seen, and whatever learns
from those scores downstream learns from a leak. So the rated texts are cut into `n_folds` blocks by time (each
distinct text in the block of its first appearance; the blocks hold nearly equal numbers of distinct texts, oldest
first) and block k is scored by a model fitted on every other block. Texts outside the rated set (newer reviews,
tickets, chats) are scored by the model fitted on all of them, which never saw them either.

Texts are matched after `normalise_text` (whitespace runs collapsed, ends stripped), the form the warehouse keys its
scores on, so a copy of a rated text with other spacing is still recognised as one the full model saw.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from empathy.text.normalize import normalise_text

NOT_TRAINED_ON = -1  # the fold of a text no model was fitted on


def time_folds(occurred_at: np.ndarray, texts: Sequence[str], n_folds: int) -> tuple[np.ndarray, dict[str, int]]:
    """(fold per row, fold per distinct normalised text): `n_folds` blocks of distinct texts, oldest first.

    A text's time is its first appearance; texts are ordered by (time, text), so the order, and the folds, do not
    depend on the order of the rows. Every copy of a text falls in one fold. With fewer distinct texts than folds,
    each text is a fold of its own.
    """
    if n_folds < 2:
        raise ValueError(f"n_folds must be at least 2 (one fold to score, one to fit on), got {n_folds}")
    times = np.asarray(occurred_at)
    if len(times) != len(texts):
        raise ValueError(f"time_folds got {len(times)} times but {len(texts)} texts")
    keys = [normalise_text(t) for t in texts]
    first: dict[str, Any] = {}
    for key, when in zip(keys, times, strict=True):
        if key not in first or when < first[key]:
            first[key] = when
    order = sorted(first, key=lambda k: (first[k], k))
    n_distinct = len(order)
    folds = min(n_folds, n_distinct)
    fold_of = {key: i * folds // n_distinct for i, key in enumerate(order)}
    return np.asarray([fold_of[k] for k in keys], dtype=np.int64), fold_of


@dataclass
class CrossFit:
    """The fold models of one company model: `models[k]` was fitted on every fold but k (None when those rows
    carry a single rating label, so no classifier could be fitted; fold k's texts then get no company score)."""

    fold_of: dict[str, int] = field(default_factory=dict)
    models: list[Any] = field(default_factory=list)

    def folds(self, texts: Sequence[str]) -> np.ndarray:
        """The fold of each text, `NOT_TRAINED_ON` (-1) for a text the company model was not fitted on."""
        return np.asarray([self.fold_of.get(normalise_text(t), NOT_TRAINED_ON) for t in texts], dtype=np.int64)


def cross_fit(
    x: Any,
    labels: np.ndarray,
    texts: Sequence[str],
    occurred_at: np.ndarray,
    fit: Callable[[Any, np.ndarray], Any],
    n_folds: int,
) -> CrossFit:
    """Fold models for the rows (`x`, `labels`, `texts`, `occurred_at`) a company model was fitted on.

    `fit(x_rows, labels)` returns a fitted classifier; it is called once per fold, on the rows of every other fold.
    """
    row_fold, fold_of = time_folds(occurred_at, texts, n_folds)
    labels = np.asarray(labels)
    models: list[Any] = []
    for fold in range(max(fold_of.values(), default=-1) + 1):
        rest = row_fold != fold
        models.append(fit(x[rest], labels[rest]) if len(np.unique(labels[rest])) >= 2 else None)
    return CrossFit(fold_of=fold_of, models=models)


__all__ = ["NOT_TRAINED_ON", "CrossFit", "cross_fit", "time_folds"]
