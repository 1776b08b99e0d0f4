"""Effects per unit of magnitude: a panel regression of every label on the decayed events before it.

``fit_unit_effects(...)`` estimates, for one outcome, every event type's effect per unit of magnitude on a
label the day the event happens, all event types at once:

    y[c, s, t] = a[c, s] + sum_k beta_k * X_k[c, t] + e[c, s, t]
    X_k[c, t] = sum over the customer's events of type k on days d in [t - max_lag_days, t - 1] of
                magnitude * 0.5 ** ((t - d) / h_k)

``a[c, s]`` is the customer's own level in each label source ``s`` (NPS, review, a comment asked for with an
answer, a contact text ...), removed by subtracting each customer-source's means: sources read the same mood at
other levels, and an event changes which source a customer uses (a late parcel brings a complaint instead of a
review), so one level per customer would read that switch as a change of mood. ``h_k`` is the event type's
half-life, chosen from ``HALF_LIVES`` by least squares (one type at a time, two passes). A duration (days late,
days open; ``per_day``) counts one unit on each day it lasts from the event's day, as the customer lives it: its
total is only known when it ends. The other event types are in the same regression, so an event that follows
another (a fast resolution after a problem, a gift after a complaint) is not credited with the first one's
effect. Only labels after the event count (lag >= 1 day), so a label cannot cause the event.

The standard error is the larger of the customer-clustered sandwich of the chosen half-lives and the spread of the
whole fit, half-life choice included, over ``replicates`` customer bootstrap draws (seeded): choosing among four
half-lives per type and then reporting the sandwich of the winner understates the uncertainty.

Assumptions: effects add up, grow in proportion to the magnitude and fade at one rate per event type;
events are recorded completely. It is observational: anything that moves both events and labels within a
customer-source is not adjusted for, and texts a customer writes because of an event (a chaser about a late
parcel) still read that event, not only the mood.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["HALF_LIVES", "UnitEffect", "fit_unit_effects"]

HALF_LIVES: tuple[float, ...] = (3.0, 7.0, 14.0, 30.0)
Z95 = 1.959963984540054
BOOTSTRAP_REPLICATES = 200
IQR_PER_SD = 1.3489795003921634  # interquartile range of a normal distribution, in SDs


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


def _spread_per_day(keys: np.ndarray, magnitude: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A duration (days late, days open) as one unit on each day it lasts, from the event's day on.

    The total is only known when the wait ends; a label written on the third day of a ten-day delay has seen three
    days of it, not ten.
    """
    days = np.ceil(np.where(np.isfinite(magnitude), magnitude, 1.0)).astype(np.int64).clip(min=1)
    event = np.repeat(np.arange(keys.size), days)
    offset = np.arange(event.size) - np.repeat(np.cumsum(days) - days, days)
    return keys[event] + offset, np.clip(magnitude[event] - offset, 0.0, 1.0)


def _solve(gram: np.ndarray, cross: np.ndarray, columns: list[int]) -> np.ndarray:
    sub = gram[np.ix_(columns, columns)]
    return np.linalg.lstsq(sub, cross[columns], rcond=None)[0]


def _choose(gram: np.ndarray, cross: np.ndarray, index: dict[tuple[str, float], int], types: list[str]) -> dict:
    """Each type's half-life by least squares, one type at a time, two passes (the residual sum of squares is
    ``y'y - b'X'y``, so only the cross products are needed)."""
    chosen = dict.fromkeys(types, 14.0)
    for _ in range(2):
        for t in types:
            explained = {}
            for h in HALF_LIVES:
                columns = [index[(u, h if u == t else chosen[u])] for u in types]
                explained[h] = float(_solve(gram, cross, columns) @ cross[columns])
            chosen[t] = max(HALF_LIVES, key=lambda h: (round(explained[h], 12), -h))
    return chosen


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
    per_day: frozenset[str] | set[str] = frozenset(),
    replicates: int = BOOTSTRAP_REPLICATES,
    seed: int = 0,
) -> dict[str, UnitEffect]:
    """Each event type's effect per unit of magnitude on one outcome's labels (see the module docstring).

    Args:
        label_keys: packed (customer, day) key of each label; label_customer: its customer code (>= 0);
            label_source: its source (a level per customer each); value: the label on the -1..1 scale.
        events: per event type, the packed (customer, day) keys of its events and their magnitudes.
        max_lag_days: how far back an event still counts.
        per_day: event types whose magnitude is a duration in days, counted one unit a day from the event's day.
        replicates: customer bootstrap replicates of the whole fit, half-life choice included (0: the clustered
            sandwich of the chosen half-lives instead).
        seed: seed of the bootstrap draws.

    Returns:
        Per event type with at least one event before a label of a customer with two or more labels of a source.
    """
    n_customers = int(label_customer.max()) + 1 if label_customer.size else 0
    types = [t for t in sorted(events) if events[t][0].size]
    if n_customers == 0 or not types:
        return {}
    # One level per customer and source: a customer's texts and ratings read the same mood at their own levels.
    cell_key = np.char.add(np.char.add(label_customer.astype(str), "|"), np.asarray(label_source, dtype=str))
    _, cells = np.unique(cell_key, return_inverse=True)
    n_cells = int(cells.max()) + 1
    spread = {t: _spread_per_day(*events[t]) if t in per_day else events[t] for t in types}
    pairs = {t: _exposure(label_keys, spread[t][0], spread[t][1], max_lag_days) for t in types}
    columns = {
        (t, h): _demean(
            np.bincount(pairs[t][0], weights=pairs[t][2] * 0.5 ** (pairs[t][1] / h), minlength=label_keys.size),
            cells,
            n_cells,
        )
        for t in types
        for h in HALF_LIVES
    }
    y = _demean(value, cells, n_cells)
    types = [t for t in types if np.any(columns[(t, HALF_LIVES[0])] != 0)]
    if not types:
        return {}
    index = {key: j for j, key in enumerate((t, h) for t in types for h in HALF_LIVES)}
    z = np.column_stack([columns[key] for key in index])

    def fit(weight: np.ndarray | None) -> tuple[dict[str, float], np.ndarray]:
        zw = z if weight is None else z * weight[:, None]
        gram, cross = zw.T @ z, zw.T @ y
        chosen = _choose(gram, cross, index, types)
        return chosen, _solve(gram, cross, [index[(t, chosen[t])] for t in types])

    chosen, coef = fit(None)
    x = np.column_stack([columns[(t, chosen[t])] for t in types])
    sandwich = np.diag(_clustered_covariance(x, y - x @ coef, label_customer, n_customers))
    se_all = np.sqrt(np.clip(sandwich, 0.0, None))
    if replicates > 1:
        # The spread of the whole fit, half-life choice included, over customers drawn with replacement; as the
        # normal-scaled interquartile range, since a draw with few exposures of a type can be wild. Never narrower
        # than the sandwich of the chosen half-lives.
        rng = np.random.default_rng(seed)
        used = np.unique(label_customer)
        draws = np.empty((replicates, len(types)))
        for b in range(replicates):
            times = np.bincount(rng.choice(used, used.size), minlength=n_customers).astype(np.float64)
            draws[b] = fit(times[label_customer])[1]
        q25, q75 = np.percentile(draws, [25.0, 75.0], axis=0)
        se_all = np.maximum(se_all, (q75 - q25) / IQR_PER_SD)
    out = {}
    for j, t in enumerate(types):
        se = float(se_all[j])
        z_stat = coef[j] / se if se > 0 else 0.0
        out[t] = UnitEffect(
            effect=float(coef[j]),
            ci_low=float(coef[j] - Z95 * se),
            ci_high=float(coef[j] + Z95 * se),
            p_value=math.erfc(abs(z_stat) / math.sqrt(2.0)),
            half_life_days=chosen[t],
            labels=int(np.count_nonzero(np.bincount(pairs[t][0], minlength=label_keys.size))),
        )
    return out
