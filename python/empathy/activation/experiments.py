"""Randomised holdouts: which arm of a treatment's experiment a customer is in.

A customer's bucket is the first 8 hex digits of md5("<experiment_id>:<customer_id>") read as an
integer and divided by 2**32: uniform on [0, 1), fixed for the pair and independent across
experiments. The customer is in the holdout when the bucket is below the holdout share (dbt var
``experiment_holdout_share``), else in the treated arm. The dbt macro ``experiment_bucket``
computes the same number in SQL (a test compares them on many ids), and the demo generator assigns
its simulated past decisions with this function, so the warehouse and the world agree.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np

HOLDOUT = "holdout"
TREATED = "treated"
DEFAULT_HOLDOUT_SHARE = 0.2
_SCALE = float(2**32)


def experiment_id(treatment_id: str, version: int = 1) -> str:
    """The experiment of a treatment: its id and the version of its randomisation (seed treatments)."""
    return f"{treatment_id}_v{int(version)}"


def bucket(experiment: str, customer_id: str) -> float:
    """The customer's uniform [0, 1) draw for the experiment (deterministic)."""
    digest = hashlib.md5(f"{experiment}:{customer_id}".encode(), usedforsecurity=False).hexdigest()
    return int(digest[:8], 16) / _SCALE


def arm(experiment: str, customer_id: str, holdout_share: float = DEFAULT_HOLDOUT_SHARE) -> str:
    """``holdout`` when the bucket is below the holdout share, else ``treated``."""
    if not 0.0 <= holdout_share < 1.0:
        raise ValueError(f"holdout_share must lie in [0, 1), got {holdout_share}: set var experiment_holdout_share")
    return HOLDOUT if bucket(experiment, customer_id) < holdout_share else TREATED


def is_holdout(
    experiments: Iterable[str], customer_ids: Iterable[str], holdout_share: float = DEFAULT_HOLDOUT_SHARE
) -> np.ndarray:
    """Vectorised :func:`arm`: True where the pair falls in the holdout."""
    return np.array([bucket(e, c) < holdout_share for e, c in zip(experiments, customer_ids, strict=True)], dtype=bool)
