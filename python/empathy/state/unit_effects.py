"""Effects per unit of magnitude: a panel regression of every label on the decayed events before it.

``fit_unit_effects(...)`` estimates, for one outcome, every event type's effect per unit of magnitude on a
label the day the event happens, all event types at once:

    y[c, t] = a[c] + b[source] + sum_k beta_k * X_k[c, t] + e[c, t]
    X_k[c, t] = sum over the customer's events of type k on days d in [t - max_lag_days, t - 1] of
                magnitude * 0.5 ** ((t - d) / h_k)

``a[c]`` is the customer's own level (removed by subtracting each customer's means), ``b`` one level per label
source (NPS, review, text ... read the same mood differently), and ``h_k`` the event type's half-life, chosen
from ``HALF_LIVES`` by least squares (one type at a time, two passes). The other event types are in the same
regression, so an event that follows another (a fast resolution after a problem, a gift after a complaint) is
not credited with the first one's effect; the customer's own level takes out who is exposed more often.
Only labels after the event count (lag >= 1 day), so a label cannot cause the event. The variance is the
customer-clustered sandwich of the within regression.

Assumptions: effects add up, grow in proportion to the magnitude and fade at one rate per event type;
events are recorded completely. It is observational: anything that moves both events and labels within a
customer is not adjusted for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["HALF_LIVES", "UnitEffect", "fit_unit_effects"]

HALF_LIVES: tuple[float, ...] = (3.0, 7.0, 14.0, 30.0)
Z95 = 1.959963984540054


@dataclass(frozen=True)
class UnitEffect:
    effect: float
    ci_low: float
    ci_high: float
    p_value: float
    half_life_days: float
    labels: int


def _exposure(
    label_keys: np.ndarray,
    event_keys: np.ndarray,
    magnitude: np.ndarray,
    max_lag_days: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(label index, lag in days, magnitude) of every event in the `max_lag_days` days before a label.

    Keys are (customer, day) packed so that one customer's days are consecutive integers (see effects._Keys).
    """
    order = np.argsort(label_keys, kind="stable")
    sorted_keys = label_keys[order]
    lo = np.searchsorted(sorted_keys, event_keys + 1, side="left")
    hi = np.searchsorted(sorted_keys, event_keys + max_lag_days + 1, side="left")
    counts = hi - lo
    event_of_pair = np.repeat(np.arange(event_keys.size), counts)
    position = np.arange(event_of_pair.size) - np.repeat(np.cumsum(counts) - counts, counts) + lo[event_of_pair]
    label = order[position]
    return label, label_keys[label] - event_keys[event_of_pair], magnitude[event_of_pair]


def _demean(values: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Each column minus its mean within the group (the customer)."""
    counts = np.bincount(groups, minlength=n_groups).astype(np.float64)
    if values.ndim == 1:
        return values - (np.bincount(groups, weights=values, minlength=n_groups) / np.maximum(counts, 1))[groups]
    out = np.empty_like(values)
    for j in range(values.shape[1]):
        out[:, j] = _demean(values[:, j], groups, n_groups)
    return out


def _least_squares(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ coef
    return coef, float(resid @ resid)


def _clustered_covariance(x: np.ndarray, resid: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    bread = np.linalg.pinv(x.T @ x)
    scores = np.zeros((n_groups, x.shape[1]))
    np.add.at(scores, groups, x * resid[:, None])
    used = int(np.count_nonzero(np.bincount(groups, minlength=n_groups)))
    correction = used / max(used - 1, 1)
    return correction * bread @ (scores.T @ scores) @ bread


def fit_unit_effects(
    label_keys: np.ndarray,
    label_customer: np.ndarray,
    label_source: np.ndarray,
    value: np.ndarray,
    events: dict[str, tuple[np.ndarray, np.ndarray]],
    *,
    max_lag_days: int = 90,
) -> dict[str, UnitEffect]:
    """Each event type's effect per unit of magnitude on one outcome's labels (see the module docstring).

    Args:
        label_keys: packed (customer, day) key of each label; label_customer: its customer code (>= 0);
            label_source: its source (a level each); value: the label on the -1..1 scale.
        events: per event type, the packed (customer, day) keys of its events and their magnitudes.
        max_lag_days: how far back an event still counts.

    Returns:
        Per event type with at least one event before a label of a customer with two or more labels.
    """
    n_groups = int(label_customer.max()) + 1 if label_customer.size else 0
    types = [t for t in sorted(events) if events[t][0].size]
    if n_groups == 0 or not types:
        return {}
    pairs = {t: _exposure(label_keys, events[t][0], events[t][1], max_lag_days) for t in types}
    columns = {
        (t, h): _demean(
            np.bincount(pairs[t][0], weights=pairs[t][2] * 0.5 ** (pairs[t][1] / h), minlength=label_keys.size),
            label_customer,
            n_groups,
        )
        for t in types
        for h in HALF_LIVES
    }
    levels, source_code = np.unique(label_source, return_inverse=True)
    sources = _demean(np.eye(levels.size)[source_code][:, 1:], label_customer, n_groups)
    y = _demean(value, label_customer, n_groups)
    types = [t for t in types if np.any(columns[(t, HALF_LIVES[0])] != 0)]
    chosen = dict.fromkeys(types, 14.0)

    def design(choice: dict[str, float]) -> np.ndarray:
        return np.column_stack([columns[(t, choice[t])] for t in types] + [sources])

    for _ in range(2):
        for t in types:
            fits = {h: _least_squares(design({**chosen, t: h}), y)[1] for h in HALF_LIVES}
            chosen[t] = min(fits, key=lambda h: (fits[h], h))
    x = design(chosen)
    coef, _ = _least_squares(x, y)
    cov = _clustered_covariance(x, y - x @ coef, label_customer, n_groups)
    out = {}
    for j, t in enumerate(types):
        se = math.sqrt(max(cov[j, j], 0.0))
        z = coef[j] / se if se > 0 else 0.0
        out[t] = UnitEffect(
            effect=float(coef[j]),
            ci_low=float(coef[j] - Z95 * se),
            ci_high=float(coef[j] + Z95 * se),
            p_value=math.erfc(abs(z) / math.sqrt(2.0)),
            half_life_days=chosen[t],
            labels=int(np.count_nonzero(np.bincount(pairs[t][0], minlength=label_keys.size))),
        )
    return out
