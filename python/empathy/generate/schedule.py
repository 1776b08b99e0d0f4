"""Scheduling helpers: rows and events queued for a later day, and record versions by day of change."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pyarrow as pa

from empathy.generate.writer import NULL, _concat, _take


class Queue:
    """Rows scheduled for a later day (contacts, follow-ups, review chances, state impulses, ...)."""

    def __init__(self, horizon: int):
        self.horizon = horizon
        self.items: dict[int, list[dict]] = defaultdict(list)

    def put(self, day, **cols) -> None:
        day = np.asarray(day, dtype=np.int64)
        if day.ndim == 0 or len(day) == 0:
            if day.ndim == 0:
                raise ValueError("day must be an array")
            return
        keep = np.nonzero(day < self.horizon)[0]
        if not len(keep):
            return
        order = keep[np.argsort(day[keep], kind="stable")]
        ds = day[order]
        cuts = np.flatnonzero(np.diff(ds)) + 1
        for a, b in zip(np.concatenate([[0], cuts]), np.concatenate([cuts, [len(ds)]]), strict=True):
            sel = order[a:b]
            self.items[int(ds[a])].append({k: _take(v, sel) for k, v in cols.items()})

    def pop(self, day: int) -> dict | None:
        batches = self.items.pop(day, None)
        if not batches:
            return None
        return {k: _concat([b[k] for b in batches]) for k in batches[0]}


def emit_versions(w, table: str, stage_ts: np.ndarray, base: dict, fields) -> None:
    """Write one version per record and day: the last stage reached that day.

    ``stage_ts`` is (m, s) with NULL for stages a record never reaches; ``fields(stage, sel)`` returns the
    columns that depend on the stage (status, timestamps known by then).
    """
    m, ns = stage_ts.shape
    next_day = np.full(m, -1, dtype=np.int64)
    for j in range(ns - 1, -1, -1):
        t = stage_ts[:, j]
        present = t != NULL
        day = np.where(present, w.day_of(t), -1)
        emit = present & (day != next_day) & (t < w.t_end)
        sel = np.nonzero(emit)[0]
        if len(sel):
            cols = {k: (v.take(pa.array(sel)) if isinstance(v, pa.Array) else v[sel]) for k, v in base.items()}
            cols.update(fields(j, sel))
            w.writer.add(table, day[sel], cols)
        next_day = np.where(present, day, next_day)
