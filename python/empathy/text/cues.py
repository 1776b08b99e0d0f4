"""Customer-service cues: transparent phrase patterns (en/es/pt) matched in Arrow, one boolean column each.

The patterns live in `data/cues.tsv` (cue, role, RE2 pattern matched case-insensitively), written from how
customers describe problems, demands and feelings in support queues, not from any generated text. Every cue is
an input of the post-rules in `empathy.text.rules` (sarcasm, negated negatives, complaint or support request);
cues of role `feature` are also dense features of both views (the heads learn from labelled data how much each
weighs), so adding a `rule` cue needs no retraining.
"""

from __future__ import annotations

import csv
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from empathy.text.corpora import DATA


@lru_cache(maxsize=1)
def _rows() -> tuple[tuple[str, str, str], ...]:
    with open(DATA / "cues.tsv", encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        return tuple((row["cue"], row["role"], row["pattern"]) for row in reader)


def cue_patterns() -> dict[str, str]:
    """Cue name -> RE2 pattern, in file order."""
    return {name: pattern for name, _, pattern in _rows()}


def cue_names() -> tuple[str, ...]:
    return tuple(cue_patterns())


def feature_columns() -> list[int]:
    """Positions (in `cue_names()` order) of the cues that are features of the heads."""
    return [i for i, (_, role, _) in enumerate(_rows()) if role == "feature"]


NEGATED = ("negated_negative", "negated_positive")  # matched first, then blanked out for the other cues


def cue_matrix(texts: list[str] | pa.Array) -> np.ndarray:
    """(n, cues) float32 0/1: does each text match each cue? A negated phrase ("not unhappy", "not great")
    counts for its negation cue only: it is blanked before the other cues are matched."""
    arr = texts if isinstance(texts, pa.Array) else pa.array(texts, type=pa.string())
    patterns = cue_patterns()
    out = np.zeros((len(arr), len(patterns)), dtype=np.float32)
    if len(arr) == 0:
        return out
    names = list(patterns)
    rest = arr
    for name in NEGATED:
        pattern = "(?i)" + patterns[name]
        out[:, names.index(name)] = pc.match_substring_regex(arr, pattern).to_numpy(zero_copy_only=False)
        rest = pc.replace_substring_regex(rest, pattern, " ")
    for j, (name, pattern) in enumerate(patterns.items()):
        if name not in NEGATED:
            out[:, j] = pc.match_substring_regex(rest, pattern, ignore_case=True).to_numpy(zero_copy_only=False)
    return out


def column(matrix: np.ndarray, name: str) -> np.ndarray:
    """One cue's column of `cue_matrix` as booleans."""
    return matrix[:, cue_names().index(name)] > 0
