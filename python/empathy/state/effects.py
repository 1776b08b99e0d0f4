"""Event library: the effect of each type of customer event on what customers later say, and on churn.

``estimate_event_effects(events, outcomes, population, as_of=...)`` returns one row per
(event_type, outcome, effect_per) with outcome in ('valence', 'sentiment', 'survey', 'review',
'churn') and effect_per in ('exposure', 'unit'), estimated from the company's own data by
comparing exposed customer-days with matched unexposed customer-days. The outcomes are labels on
the -1..1 scale by source ('sentiment': texts, 'survey': NPS and CSAT answers, 'review': review
ratings); 'valence' pools every label of every source.

Method
------
Units are customer-days ``(customer, t)``; a customer is alive on day ``t`` when
``start_date <= t < end_date`` (``end_date`` is the churn day; null means still a customer).

* **Exposures.** For each event type, a customer's first event is counted, and so is any later
  event of that type more than ``washout_days`` after the previous *counted* one; events inside
  the washout are absorbed into the counted event. A counted event at ``t`` is an exposed unit
  when the customer is alive at ``t`` and the whole outcome window is observed:
  ``t + horizon_days <= as_of``. The same exposed units serve every outcome. An exposure's
  **magnitude** is the sum of the magnitudes (days late, e-mails over the cap, % price change; 1 when
  an event has none) of the customer's events of the type in ``[t, t + horizon_days]``, whose effects
  fall in its window.
* **Controls.** A candidate pool of customer-days is drawn at random (seeded, without
  replacement) from all alive days with ``t + horizon_days <= as_of`` (the whole pool when it is
  small enough, otherwise at least ``10 x controls_per_exposed x`` the largest exposure count).
  For each event type, candidates with an event of that type within
  ``[t - washout_days, t + horizon_days]`` are removed, and up to ``controls_per_exposed``
  controls per exposed unit are drawn at random within each stratum (the pool is shuffled once
  per seed). A stratum with too few eligible candidates gets all of them, so ``control_units``
  can fall short of ``controls_per_exposed x exposed_units``. The churn row draws its own
  controls the same way but only requires no event in ``[t - washout_days, t]`` (see Churn).
* **Strata** (the matching): calendar month of ``t``; tenure at ``t`` (< 90 days, 90-364,
  >= 365); prior sentiment = mean of all the customer's labels (every outcome) in
  ``[t - pre_days, t)``, bucketed 'none' / 'negative' (< -0.2) / 'neutral' / 'positive' (> 0.2).
* **Scores** (valence, sentiment, survey, review). A unit's outcome is the mean of its values of
  that outcome in ``(t, t + horizon_days]`` (day ``t`` itself is excluded, so same-day reactions to
  the event do not count as "later"); units without one are left out of that outcome. Per exposure,
  the effect is ``(1/N) sum_i (y_i - mean_c[s_i])`` over the N exposed units in strata with
  controls: the stratified difference of means weighted by exposed units (strata without units on
  both sides are dropped; ``strata_dropped`` counts them). It is linear in the unit outcomes, so
  its variance is a **customer-clustered sandwich**: each unit's influence (its centred excess, or a
  control's share of its stratum's control mean) is summed by customer, and the squared sums are
  added (times G / (G - 1) for G customers); a stratum with one control adds the controls' pooled
  within-stratum variance. A customer's many exposures and controls, and their overlapping windows,
  are therefore not counted as independent evidence. 95% CI = effect +/- 1.96 SE; the p-value is
  the two-sided normal (Wald) p-value. ``exposed_mean`` / ``control_mean`` are the two means over
  the exposed units (the controls standardised to the exposed units' strata).
* **Per unit** (``effect_per = 'unit'``): every event type's effect per unit of magnitude on a label the
  day the event happens, from one panel regression of the outcome's labels on all event types'
  magnitudes decayed by a half-life chosen per type (``half_life_days``), with the customer's own level in
  each label source removed (an outcomes column ``source``, when given, names the source within the outcome;
  else the outcome), durations in ``per_day_types`` counted one unit a day, and a 95% CI from the larger of
  the clustered sandwich and a customer bootstrap of the whole fit (``empathy.state.unit_effects``). Unlike the matched
  comparison it credits each event only with its own effect when events follow one another (a fast
  resolution after a problem), and it does not average the effect over a window. The counts and
  ``mean_magnitude`` of these rows are those of the matched exposures.
* **Churn.** Follow-up runs over ``(t, t + churn_horizon_days]`` with person-time **censored at
  as_of** (so exposures need only the sentiment window to be observable); the outcome is a churn
  (``end_date``) inside the follow-up, and person-time is ``min(end_date, t + churn_horizon_days,
  as_of) - t`` days. Churn controls must be clear of the event type in ``[t - washout_days, t]``
  only, and their follow-up is also **censored at their next event of the type**, so it is all
  unexposed person-time. Requiring them to stay event-free until ``t + horizon_days`` instead
  would favour customers who churn early (a churned customer has no more events) and bias the
  hazard ratio downwards: 0.74-0.81 instead of ~1.0 for a no-effect event every ~40 days in
  simulated worlds. The hazard ratio is the Mantel-Haenszel stratified rate ratio of exposed vs
  controls with the Greenland-Robins (1985) variance of its logarithm; 95% CI =
  ``exp(log HR +/- 1.96 SE)`` and the p-value is the Wald p-value on the log scale. For churn,
  ``exposed_with_outcome`` / ``control_with_outcome`` are the numbers of units that churned during
  follow-up, and ``exposed_mean`` / ``control_mean`` are churn rates per 1,000 customer-days (the
  control rate standardised to the exposed person-time of each stratum).
* Event types with fewer than ``min_exposed`` exposed units still get rows, with null effects and
  ``status = 'too_few_exposed'``. Other non-'ok' statuses: 'no_outcomes', 'no_matched_strata',
  'too_few_with_outcome', 'no_churn_events', 'no_exposed_churn', 'no_control_churn'.

Assumptions and limits
----------------------
This is an observational comparison matched on month, tenure and prior sentiment only; it is not
causal proof. Anything else that drives both exposure and outcome (product, plan, region, the
size of the order, how active the customer is...) is not adjusted for. Events and outcomes are
assumed to be recorded completely over the months in which exposures occur.

The score intervals are clustered by customer (above). The churn interval still treats units as
independent, but one churn is counted by every unit of that customer whose follow-up covers it, so
it is too narrow for frequent event types: in simulations the spread of the log hazard ratio across
worlds was 1.0-1.15x the mean reported SE with an event every ~150 days and 1.4-2.8x with an event
every ~40 days. Effects decay: an effect per unit is the mean shift of the labels over the window,
less than the shift right after the event when it fades within the window.

Score controls are kept clear of the event type within ``[t - washout_days,
t + horizon_days]``, a condition on the future that slightly favours customers who are less
active or churn early. Effects that last longer than the washout leak into the controls and
bias estimates toward no effect.
Events and outcomes after ``as_of`` and rows whose customer is not in ``population`` are ignored.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from empathy.state.unit_effects import fit_unit_effects

__all__ = ["OUTCOMES", "OUTPUT_SCHEMA", "estimate_event_effects"]

SCORE_OUTCOMES: tuple[str, ...] = ("valence", "sentiment", "survey", "review")
OUTCOMES: tuple[str, ...] = (*SCORE_OUTCOMES, "churn")
PER_EXPOSURE = "exposure"
PER_UNIT = "unit"
# The rows of each event type, in order: every score outcome per exposure and per unit, then churn.
ROW_KEYS: tuple[tuple[str, str], ...] = (
    *((outcome, per) for outcome in SCORE_OUTCOMES for per in (PER_EXPOSURE, PER_UNIT)),
    ("churn", PER_EXPOSURE),
)

OUTPUT_SCHEMA = pa.schema(
    [
        ("event_type", pa.string()),
        ("outcome", pa.string()),
        ("effect_per", pa.string()),
        ("exposed_units", pa.int64()),
        ("exposed_customers", pa.int64()),
        ("exposed_with_outcome", pa.int64()),
        ("control_units", pa.int64()),
        ("control_with_outcome", pa.int64()),
        ("strata_used", pa.int64()),
        ("strata_dropped", pa.int64()),
        ("exposed_mean", pa.float64()),
        ("control_mean", pa.float64()),
        ("mean_magnitude", pa.float64()),
        ("half_life_days", pa.float64()),
        ("effect", pa.float64()),
        ("hazard_ratio", pa.float64()),
        ("ci_low", pa.float64()),
        ("ci_high", pa.float64()),
        ("p_value", pa.float64()),
        ("horizon_days", pa.int64()),
        ("status", pa.string()),
        ("method", pa.string()),
    ]
)

REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "events": ("customer_id", "event_type", "event_date"),
    "outcomes": ("customer_id", "outcome_date", "outcome", "value"),
    "population": ("customer_id", "start_date", "end_date"),
}

METHOD_SCORE = (
    "stratified difference in means (month x tenure x prior sentiment); "
    "95% CI from a customer-clustered sandwich variance"
)
METHOD_SCORE_UNIT = (
    "panel regression of each label on every event type's magnitude decayed by its half-life, "
    "customer-by-label-source levels removed, durations a day at a time (empathy.state.unit_effects); 95% CI from the "
    "larger of a customer-clustered sandwich and a customer bootstrap over the half-life choice"
)
METHOD_CHURN = (
    "Mantel-Haenszel rate ratio (month x tenure x prior sentiment), person-time censored at as_of "
    "and, for controls, at their next event; Greenland-Robins log-scale 95% CI; "
    "means = churns per 1,000 customer-days"
)

Z95 = 1.959963984540054
TENURE_EDGES = (90, 365)
PRIOR_NEGATIVE = -0.2
PRIOR_POSITIVE = 0.2
POOL_FLOOR = 100_000
POOL_FACTOR = 10
_EPOCH = date(1970, 1, 1)


# --------------------------------------------------------------------------- inputs


def _as_table(data: Any, name: str) -> pa.Table:
    if isinstance(data, pa.Table):
        table = data
    elif isinstance(data, pd.DataFrame):
        table = pa.Table.from_pandas(data, preserve_index=False)
    else:
        raise TypeError(f"{name} must be a pyarrow.Table or a pandas.DataFrame, not {type(data).__name__}")
    for column in REQUIRED_COLUMNS[name]:
        if column not in table.column_names:
            raise ValueError(f"{name} is missing required column {column!r}")
    # Rows in one order whatever order the warehouse returned them in: customer codes, the control draws and
    # the running sums all follow row order.
    return table.sort_by([(column, "ascending") for column in REQUIRED_COLUMNS[name]])


def _strings(table: pa.Table, column: str) -> np.ndarray:
    col = table.column(column)
    if len(col) == 0:
        return np.empty(0, dtype=object)
    return pc.cast(col, pa.string()).to_numpy(zero_copy_only=False)


def _days(table: pa.Table, name: str, column: str) -> tuple[np.ndarray, np.ndarray]:
    """Day numbers since 1970-01-01 (int64) and a validity mask."""
    col = table.column(column)
    if len(col) == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=bool)
    try:
        as_date = col if pa.types.is_date32(col.type) else pc.cast(col, pa.date32(), safe=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise ValueError(f"{name}.{column} must hold dates, got {col.type}") from exc
    valid = pc.is_valid(as_date).to_numpy(zero_copy_only=False).astype(bool)
    days = pc.fill_null(pc.cast(as_date, pa.int32()), 0).to_numpy(zero_copy_only=False).astype(np.int64)
    return days, valid


def _floats(table: pa.Table, column: str) -> np.ndarray:
    col = table.column(column)
    if len(col) == 0:
        return np.empty(0, dtype=np.float64)
    values = pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False)
    return np.asarray(values, dtype=np.float64)


def _magnitudes(events: pa.Table) -> np.ndarray:
    """Each event's magnitude (days late, e-mails over the cap, ...); 1 where it has none."""
    if "magnitude" not in events.column_names:
        return np.ones(events.num_rows)
    size = _floats(events, "magnitude")
    return np.where(np.isfinite(size) & (size >= 0), size, 1.0)


def _as_of_day(as_of: Any) -> int:
    if isinstance(as_of, datetime):
        as_of = as_of.date()
    if not isinstance(as_of, date):
        raise TypeError(f"as_of must be a datetime.date, not {type(as_of).__name__}")
    return (as_of - _EPOCH).days


@dataclass
class _Population:
    ids: pd.Index  # unique customer ids; position = customer code
    start: np.ndarray  # first alive day
    end: np.ndarray  # first day no longer alive (churn day), or a far-future sentinel
    churned: np.ndarray  # bool: has an end_date

    def codes(self, ids: np.ndarray) -> np.ndarray:
        if ids.size == 0 or len(self.ids) == 0:
            return np.full(ids.size, -1, dtype=np.int64)
        return self.ids.get_indexer(ids).astype(np.int64)


def _population(table: pa.Table, far_future: int) -> _Population:
    ids = _strings(table, "customer_id")
    start, start_ok = _days(table, "population", "start_date")
    end, end_ok = _days(table, "population", "end_date")
    keep = start_ok & pd.notna(ids)
    ids, start, end, end_ok = ids[keep], start[keep], end[keep], end_ok[keep]
    codes, uniques = pd.factorize(ids)
    n = len(uniques)
    first = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, codes, start)
    last = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(last, codes, np.where(end_ok, end, far_future))  # any null end_date: still a customer
    return _Population(ids=pd.Index(uniques), start=first, end=last, churned=last < far_future)


class _Keys:
    """Packs (customer code, day) into one sortable int64 so windows become searchsorted ranges."""

    def __init__(self, low_day: int, high_day: int) -> None:
        self.base = low_day
        self.stride = high_day - low_day + 1

    def __call__(self, codes: np.ndarray, days: np.ndarray) -> np.ndarray:
        return codes * self.stride + (days - self.base)


@dataclass
class _Series:
    """One outcome's values sorted by key, with a running sum for O(log n) window means."""

    keys: np.ndarray
    csum: np.ndarray

    @classmethod
    def build(cls, keys: np.ndarray, values: np.ndarray) -> _Series:
        order = np.argsort(keys, kind="stable")
        return cls(keys=keys[order], csum=np.concatenate([[0.0], np.cumsum(values[order])]))

    def window(self, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Count and sum of the values with lo <= key < hi."""
        i = np.searchsorted(self.keys, lo, side="left")
        j = np.searchsorted(self.keys, hi, side="left")
        return j - i, self.csum[j] - self.csum[i]


def _count_in(sorted_keys: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return np.searchsorted(sorted_keys, hi, side="left") - np.searchsorted(sorted_keys, lo, side="left")


# --------------------------------------------------------------------------- design


def _washout_exposures(codes: np.ndarray, days: np.ndarray, keys: _Keys, washout_days: int) -> np.ndarray:
    """Indices (into codes/days) of the counted events under the washout rule.

    Vectorised over customers: each round finds, for every customer still in play, the first event
    more than ``washout_days`` after its last counted one, so the loop runs as many times as the
    largest number of exposures of one customer.
    """
    if codes.size == 0:
        return np.empty(0, dtype=np.int64)
    order = np.lexsort((days, codes))
    k = keys(codes[order], days[order])
    c = codes[order]
    current = np.flatnonzero(np.r_[True, c[1:] != c[:-1]])
    picked = [current]
    while current.size:
        nxt = np.searchsorted(k, k[current] + washout_days + 1, side="left")
        inside = nxt < k.size
        nxt, owner = nxt[inside], c[current[inside]]
        current = nxt[c[nxt] == owner]
        picked.append(current)
    return np.sort(order[np.concatenate(picked)])


def _strata(
    codes: np.ndarray, days: np.ndarray, pop: _Population, sentiment: _Series, keys: _Keys, pre_days: int
) -> np.ndarray:
    """Stratum id = calendar month x tenure bucket x prior-sentiment bucket."""
    month = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    tenure = days - pop.start[codes]
    tenure_bucket = np.searchsorted(np.asarray(TENURE_EDGES), tenure, side="right")
    n, total = sentiment.window(keys(codes, days - pre_days), keys(codes, days))
    mean = np.divide(total, n, out=np.zeros(n.size), where=n > 0)
    prior = np.select([n == 0, mean < PRIOR_NEGATIVE, mean > PRIOR_POSITIVE], [0, 1, 3], default=2)
    return month * 12 + tenure_bucket * 4 + prior


@dataclass
class _Units:
    codes: np.ndarray
    days: np.ndarray
    strata: np.ndarray

    @property
    def size(self) -> int:
        return int(self.codes.size)

    def take(self, idx: np.ndarray) -> _Units:
        return _Units(self.codes[idx], self.days[idx], self.strata[idx])


@dataclass
class _Pool:
    """Candidate control days in (customer, day) key order, plus a seeded random order within strata.

    ``order`` lists the candidates sorted by stratum and, inside a stratum, at random; ``group`` is
    the stratum index of each position of ``order``. Keeping the units themselves in key order makes
    the window look-ups (searchsorted on increasing keys) fast.
    """

    units: _Units
    key: np.ndarray
    order: np.ndarray
    group: np.ndarray
    group_strata: np.ndarray
    group_first: np.ndarray
    group_sizes: np.ndarray


def _candidate_pool(
    pop: _Population,
    last_day: int,
    size_hint: int,
    rng: np.random.Generator,
    keys: _Keys,
    strata: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> _Pool:
    """Random alive customer-days with t <= last_day (all of them when there are few)."""
    lo = pop.start
    hi = np.minimum(pop.end, last_day + 1)
    lengths = np.clip(hi - lo, 0, None)
    total = int(lengths.sum())
    size = min(total, max(POOL_FLOOR, size_hint))
    flat = np.arange(total, dtype=np.int64) if size == total else np.sort(rng.choice(total, size=size, replace=False))
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    codes = (np.searchsorted(offsets, flat, side="right") - 1).astype(np.int64)
    days = lo[codes] + (flat - offsets[codes])
    units = _Units(codes, days, strata(codes, days))
    # Random order within strata: shuffle, then a stable sort on a small dense stratum index.
    shuffled = rng.permutation(size)
    dense = units.strata - (units.strata.min() if size else 0)
    dense = dense.astype(np.int16 if size and dense.max() < np.iinfo(np.int16).max else np.int64)
    order = shuffled[np.argsort(dense[shuffled], kind="stable")]
    ordered = units.strata[order]
    first = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]]) if size else np.empty(0, dtype=np.int64)
    sizes = np.diff(np.r_[first, size])
    return _Pool(
        units=units,
        key=keys(codes, days),
        order=order,
        group=np.repeat(np.arange(first.size), sizes),
        group_strata=ordered[first],
        group_first=first,
        group_sizes=sizes,
    )


def _draw_controls(
    pool: _Pool, exposed_strata: np.ndarray, event_keys: np.ndarray, washout_days: int, horizon_days: int, per: int
) -> _Units:
    """Up to ``per`` controls per exposed unit in each stratum, among candidates clear of the event.

    The pool is already in random order within strata, so taking the first clear candidates of a
    stratum is a random draw without replacement. Controls come back in key order.
    """
    wanted, n_exposed = np.unique(exposed_strata, return_counts=True)
    pos = np.searchsorted(pool.group_strata, wanted)
    found = pos < pool.group_strata.size
    found[found] = pool.group_strata[pos[found]] == wanted[found]
    quota = np.zeros(pool.group_strata.size, dtype=np.int64)
    quota[pos[found]] = per * n_exposed[found]
    if not quota.any():
        return pool.units.take(np.empty(0, dtype=np.int64))
    # Keys shift with days inside one customer, so the event window is a key range.
    near = _count_in(event_keys, pool.key - washout_days, pool.key + horizon_days + 1)
    clear = ((near == 0)[pool.order] & (quota[pool.group] > 0)).astype(np.int64)
    running = np.cumsum(clear)
    rank = running - np.repeat((running - clear)[pool.group_first], pool.group_sizes)
    chosen = pool.order[(clear == 1) & (rank <= quota[pool.group])]
    return pool.units.take(np.sort(chosen))


def _next_event_day(event_keys: np.ndarray, unit_keys: np.ndarray, unit_days: np.ndarray) -> np.ndarray:
    """Day of each unit's next event after its day (a far-future day when there is none).

    An event key belonging to a later customer lies more than any follow-up window away, so it
    never cuts a follow-up short.
    """
    nxt = np.searchsorted(event_keys, unit_keys + 1, side="left")
    has = nxt < event_keys.size
    out = np.full(unit_days.size, np.iinfo(np.int64).max // 2, dtype=np.int64)
    out[has] = unit_days[has] + (event_keys[nxt[has]] - unit_keys[has])
    return out


# --------------------------------------------------------------------------- estimators


def _p_value(z: float) -> float:
    return math.erfc(abs(z) / math.sqrt(2.0))


def _group(strata_e: np.ndarray, strata_c: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    groups = np.union1d(strata_e, strata_c)
    return np.searchsorted(groups, strata_e), np.searchsorted(groups, strata_c), groups.size


def _clustered_variance(influence: np.ndarray, clusters: np.ndarray) -> float:
    """Sandwich variance of a sum of per-unit influences: influences summed within each cluster, then
    squared and added, times G / (G - 1) for G clusters. With one unit per cluster it is the usual
    independent-units variance."""
    _, inverse = np.unique(clusters, return_inverse=True)
    totals = np.bincount(inverse, weights=influence)
    groups = totals.size
    return float(np.sum(totals**2) * groups / (groups - 1)) if groups > 1 else float("nan")


def _interval(effect: float, variance: float) -> dict[str, Any]:
    se = math.sqrt(variance) if np.isfinite(variance) and variance > 0 else 0.0
    p_value = _p_value(effect / se) if se > 0 else (1.0 if effect == 0 else 0.0)
    return {"effect": effect, "ci_low": effect - Z95 * se, "ci_high": effect + Z95 * se, "p_value": p_value}


@dataclass
class _Arm:
    """One arm's units with the outcome: stratum, outcome, magnitude (1 for controls) and customer."""

    strata: np.ndarray
    y: np.ndarray
    dose: np.ndarray
    customer: np.ndarray


def _stratified_effects(exposed: _Arm, control: _Arm, *, clustered: bool = True) -> dict[str, dict[str, Any]]:
    """Effect per exposure and per unit of magnitude, each with a customer-clustered 95% CI.

    Per exposure: ``(1/N) sum_i (y_i - mean_c[s_i])`` over the N exposed units in strata with controls
    (the difference in means weighted by the exposed units of each stratum). Per unit: the same excess
    summed and divided by the exposed units' total magnitude. Both are linear in the unit outcomes, so
    their variance is the sandwich of the per-unit influences summed by customer (`_clustered_variance`);
    a stratum with a single control adds the controls' pooled within-stratum variance for that control.
    """
    ie, ic, size = _group(exposed.strata, control.strata)
    ne = np.bincount(ie, minlength=size).astype(np.float64)
    nc = np.bincount(ic, minlength=size).astype(np.float64)
    used = (ne > 0) & (nc > 0)
    out: dict[str, Any] = {"strata_used": int(used.sum()), "strata_dropped": int(((ne > 0) != (nc > 0)).sum())}
    if not used.any():
        return {PER_EXPOSURE: {**out, "status": "no_matched_strata"}}
    if ne[used].sum() < 2 or nc[used].sum() < 2:
        return {PER_EXPOSURE: {**out, "status": "too_few_with_outcome"}}
    keep_e, keep_c = used[ie], used[ic]
    ie, ic = ie[keep_e], ic[keep_c]
    y_e, dose, cust_e = exposed.y[keep_e], exposed.dose[keep_e], exposed.customer[keep_e]
    y_c, cust_c = control.y[keep_c], control.customer[keep_c]
    mean_c = np.divide(np.bincount(ic, weights=y_c, minlength=size), nc, out=np.zeros(size), where=nc > 0)
    n_exposed, total_dose = float(ie.size), float(dose.sum())
    excess = y_e - mean_c[ie]
    effect = float(excess.sum() / n_exposed)
    # Control residuals, inflated by n / (n - 1) so that a stratum's sum of squares estimates its variance.
    resid_c = (y_c - mean_c[ic]) * np.sqrt(nc[ic] / np.maximum(nc[ic] - 1, 1))
    share_c = ne[ic] / nc[ic]  # exposed units each control stands for
    single = used & (nc == 1)
    several = used & (nc >= 2)
    pooled = float(np.sum(resid_c[several[ic]] ** 2) / (nc[several] - 1).sum()) if several.any() else np.var(y_c)
    # Clustered: a customer's units are one cluster. Otherwise every unit is its own (for comparison only).
    customers = np.concatenate([cust_e, cust_c]) if clustered else np.arange(ie.size + ic.size)
    results: dict[str, dict[str, Any]] = {}
    for per, scale, centre in ((PER_EXPOSURE, n_exposed, effect), (PER_UNIT, total_dose, None)):
        if scale <= 0:
            results[per] = {**out, "status": "no_magnitude"}
            continue
        estimate = centre if centre is not None else float(excess.sum() / total_dose)
        centred = excess - (estimate if per == PER_EXPOSURE else estimate * dose)
        influence = np.concatenate([centred, -share_c * resid_c]) / scale
        variance = _clustered_variance(influence, customers) + float(np.sum(ne[single] ** 2) * pooled) / scale**2
        results[per] = {
            **out,
            "exposed_mean": float(y_e.mean()),
            "control_mean": float(mean_c[ie].mean()),
            "mean_magnitude": total_dose / n_exposed,
            **_interval(estimate, variance),
            "status": "ok",
        }
    return results


def _mantel_haenszel_rate_ratio(
    strata_e: np.ndarray,
    events_e: np.ndarray,
    time_e: np.ndarray,
    strata_c: np.ndarray,
    events_c: np.ndarray,
    time_c: np.ndarray,
) -> dict[str, Any]:
    """MH rate ratio with the Greenland-Robins (1985) variance of log(RR_MH)."""
    ie, ic, size = _group(strata_e, strata_c)
    a = np.bincount(ie, weights=events_e, minlength=size)
    t1 = np.bincount(ie, weights=time_e, minlength=size)
    b = np.bincount(ic, weights=events_c, minlength=size)
    t0 = np.bincount(ic, weights=time_c, minlength=size)
    used = (t1 > 0) & (t0 > 0)
    out: dict[str, Any] = {"strata_used": int(used.sum()), "strata_dropped": int(((t1 > 0) != (t0 > 0)).sum())}
    if not used.any():
        return {**out, "status": "no_matched_strata"}
    a, t1, b, t0 = a[used], t1[used], b[used], t0[used]
    t = t1 + t0
    r = float(np.sum(a * t0 / t))
    s = float(np.sum(b * t1 / t))
    out["exposed_mean"] = 1000.0 * float(a.sum() / t1.sum())
    out["control_mean"] = 1000.0 * float(np.sum(t1 * b / t0) / t1.sum())
    if r == 0 and s == 0:
        return {**out, "status": "no_churn_events"}
    if r == 0:
        return {**out, "status": "no_exposed_churn"}
    if s == 0:
        return {**out, "status": "no_control_churn"}
    hr = r / s
    se = math.sqrt(float(np.sum((a + b) * t1 * t0 / t**2)) / (r * s))
    return {
        **out,
        "hazard_ratio": hr,
        "ci_low": hr * math.exp(-Z95 * se),
        "ci_high": hr * math.exp(Z95 * se),
        "p_value": _p_value(math.log(hr) / se),
        "status": "ok",
    }


def _row(event_type: str, outcome: str, horizon: int, effect_per: str = PER_EXPOSURE, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(OUTPUT_SCHEMA.names)
    method = {PER_EXPOSURE: METHOD_SCORE, PER_UNIT: METHOD_SCORE_UNIT}[effect_per]
    row.update(
        event_type=event_type,
        outcome=outcome,
        effect_per=effect_per,
        horizon_days=horizon,
        method=METHOD_CHURN if outcome == "churn" else method,
    )
    row.update({k: v for k, v in values.items() if k in row})
    return row


def _check_parameters(**params: int) -> None:
    minimum = {"washout_days": 0, "min_exposed": 0, "seed": 0}
    for name, value in params.items():
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
            raise TypeError(f"{name} must be an int, not {type(value).__name__}")
        if value < minimum.get(name, 1):
            raise ValueError(f"{name} must be >= {minimum.get(name, 1)}, got {value}")


# --------------------------------------------------------------------------- entry point


def estimate_event_effects(
    events: pa.Table | pd.DataFrame,
    outcomes: pa.Table | pd.DataFrame,
    population: pa.Table | pd.DataFrame,
    *,
    as_of: date,
    horizon_days: int = 30,
    churn_horizon_days: int = 90,
    pre_days: int = 90,
    washout_days: int = 30,
    controls_per_exposed: int = 5,
    min_exposed: int = 20,
    seed: int = 0,
    clustered: bool = True,
    per_day_types: frozenset[str] | set[str] = frozenset(),
) -> pa.Table:
    """Estimate each event type's effect on later sentiment, survey score and churn hazard.

    Exposed customer-days (washout-deduplicated events with the outcome window observable) are
    compared with randomly drawn unexposed customer-days matched on calendar month, tenure bucket
    and prior-sentiment bucket; see the module docstring for the full method and its limits.
    Scores: stratified difference in means, per exposure and per unit of magnitude, with a normal 95% CI
    from a customer-clustered variance. Churn: Mantel-Haenszel rate ratio over person-time censored at
    ``as_of`` (controls also at their next event of the type), Greenland-Robins variance, log-scale 95% CI.

    Args:
        events: customer_id, event_type, event_date, and optionally magnitude (null or absent: 1).
        outcomes: customer_id, outcome_date, outcome ('sentiment' | 'survey' | 'review'), value in [-1, 1].
        population: customer_id, start_date, end_date (churn day; null = still a customer).
        as_of: the last day of data.
        horizon_days: outcome window (t, t + horizon_days] for sentiment and survey.
        churn_horizon_days: churn follow-up (t, t + churn_horizon_days], censored at as_of.
        pre_days: look-back [t - pre_days, t) for the prior-sentiment stratum.
        washout_days: events of a type within this many days of the last counted one are absorbed;
            controls have no event of the type within [t - washout_days, t + horizon_days]
            (churn controls: within [t - washout_days, t], censored at their next event).
        controls_per_exposed: controls drawn per exposed unit, within strata.
        min_exposed: event types with fewer exposed units get null effects, status 'too_few_exposed'.
        seed: seed for the control draws; the result is deterministic for a given seed.
        clustered: cluster the score variance by customer (the default); False treats every unit as
            independent, for comparison only.
        per_day_types: event types whose magnitude is a duration in days (days late, days open): the per-unit
            regression counts one unit on each day the duration lasts, from the event's day.

    Returns:
        A pyarrow Table with ``OUTPUT_SCHEMA``: one row per (event_type, outcome, effect_per), event
        types sorted, then in the order of ``ROW_KEYS``.

    Raises:
        ValueError: an input lacks a required column (the message names table and column), a date
            column does not hold dates, or a parameter is out of range.
    """
    _check_parameters(
        horizon_days=horizon_days,
        churn_horizon_days=churn_horizon_days,
        pre_days=pre_days,
        washout_days=washout_days,
        controls_per_exposed=controls_per_exposed,
        min_exposed=min_exposed,
        seed=seed,
    )
    ev_t = _as_table(events, "events")
    out_t = _as_table(outcomes, "outcomes")
    pop_t = _as_table(population, "population")
    as_of_day = _as_of_day(as_of)

    ev_type = _strings(ev_t, "event_type")
    ev_ids = _strings(ev_t, "customer_id")
    ev_day, ev_ok = _days(ev_t, "events", "event_date")
    ev_size = _magnitudes(ev_t)
    oc_ids = _strings(out_t, "customer_id")
    oc_kind = _strings(out_t, "outcome")
    oc_day, oc_ok = _days(out_t, "outcomes", "outcome_date")
    oc_value = _floats(out_t, "value")
    # A label's source within its outcome (NPS or CSAT, an asked-for comment or a contact text): its own level.
    oc_source = (
        np.where(pd.notna(src := _strings(out_t, "source")), src, oc_kind)
        if "source" in out_t.column_names
        else oc_kind
    )

    # Day range covering every date used, with room for all the windows around it.
    margin = max(horizon_days, churn_horizon_days, pre_days, washout_days) + 2
    seen = [d[ok] for d, ok in ((ev_day, ev_ok), (oc_day, oc_ok))]
    pop_start, pop_ok = _days(pop_t, "population", "start_date")
    all_days = np.concatenate([*seen, pop_start[pop_ok], [as_of_day]])
    low_day, high_day = int(all_days.min()) - margin, max(int(all_days.max()), as_of_day) + margin
    far_future = high_day + margin
    keys = _Keys(low_day, far_future + margin)
    pop = _population(pop_t, far_future)

    # Every event type present gets rows, even when none of its events can be used.
    types = sorted({str(t) for t in pd.unique(ev_type[pd.notna(ev_type)])})
    ev_code = pop.codes(ev_ids)
    keep = ev_ok & (ev_code >= 0) & pd.notna(ev_type) & (ev_day <= as_of_day)
    ev_type, ev_code, ev_day, ev_size = ev_type[keep], ev_code[keep], ev_day[keep], ev_size[keep]

    oc_code = pop.codes(oc_ids)
    oc_keep = oc_ok & (oc_code >= 0) & (oc_day <= as_of_day) & np.isfinite(oc_value)
    series: dict[str, _Series] = {}
    for kind in SCORE_OUTCOMES:
        # 'valence' pools every label; the others are one source each.
        m = oc_keep & ((oc_kind == kind) | (kind == "valence"))
        series[kind] = _Series.build(keys(oc_code[m], oc_day[m]), oc_value[m])

    # Exposures per event type, and the magnitudes of its events for the dose of each exposure.
    exposures: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    doses: dict[str, _Series] = {}
    for event_type in types:
        m = ev_type == event_type
        codes, days = ev_code[m], ev_day[m]
        counted = _washout_exposures(codes, days, keys, washout_days)
        c, d = codes[counted], days[counted]
        ok = (d >= pop.start[c]) & (d < pop.end[c]) & (d + horizon_days <= as_of_day)
        exposures[event_type] = (c[ok], d[ok], np.sort(keys(codes, days)))
        doses[event_type] = _Series.build(keys(codes, days), ev_size[m])

    active = [t for t in types if exposures[t][0].size >= max(min_exposed, 1)]
    pool: _Pool | None = None
    if active:
        biggest = max(exposures[t][0].size for t in active)
        pool = _candidate_pool(
            pop,
            as_of_day - horizon_days,
            POOL_FACTOR * controls_per_exposed * biggest,
            np.random.default_rng(seed),
            keys,
            lambda c, d: _strata(c, d, pop, series["valence"], keys, pre_days),
        )

    event_magnitudes = {t: (keys(ev_code[ev_type == t], ev_day[ev_type == t]), ev_size[ev_type == t]) for t in types}
    unit_effects = {}
    for kind in SCORE_OUTCOMES:
        m = oc_keep & ((oc_kind == kind) | (kind == "valence"))
        unit_effects[kind] = fit_unit_effects(
            keys(oc_code[m], oc_day[m]),
            oc_code[m],
            oc_source[m].astype(str),
            oc_value[m],
            event_magnitudes,
            per_day=per_day_types,
            seed=seed,
        )
    rows: list[dict[str, Any]] = []
    for event_type in types:
        e_codes, e_days, event_keys = exposures[event_type]
        n_exposed = int(e_codes.size)
        if pool is None or event_type not in active:
            for outcome, per in ROW_KEYS:
                horizon = churn_horizon_days if outcome == "churn" else horizon_days
                rows.append(_row(event_type, outcome, horizon, per, exposed_units=n_exposed, status="too_few_exposed"))
            continue
        exposed = _Units(e_codes, e_days, _strata(e_codes, e_days, pop, series["valence"], keys, pre_days))
        controls = _draw_controls(pool, exposed.strata, event_keys, washout_days, horizon_days, controls_per_exposed)
        # An exposure's magnitude: its events of the type in [t, t + horizon_days], whose effects fall in its window.
        _, dose = doses[event_type].window(keys(e_codes, e_days), keys(e_codes, e_days + horizon_days + 1))
        counts = {
            "exposed_units": n_exposed,
            "exposed_customers": int(np.unique(e_codes).size),
            "control_units": controls.size,
        }
        for kind in SCORE_OUTCOMES:
            arms = [
                _score_arm(series[kind], keys, units, horizon_days, d)
                for units, d in ((exposed, dose), (controls, None))
            ]
            arm_counts = {"exposed_with_outcome": int(arms[0].y.size), "control_with_outcome": int(arms[1].y.size)}
            results = (
                _stratified_effects(*arms, clustered=clustered)
                if arms[0].y.size
                else {PER_EXPOSURE: {"status": "no_outcomes"}}
            )
            rows.append(
                _row(event_type, kind, horizon_days, PER_EXPOSURE, **counts, **arm_counts, **results[PER_EXPOSURE])
            )
            unit = unit_effects[kind].get(event_type)
            result = dict(results.get(PER_UNIT, results[PER_EXPOSURE]))
            result.update(
                {"status": "no_outcomes", "effect": None, "ci_low": None, "ci_high": None, "p_value": None}
                if unit is None
                else {
                    "status": "ok",
                    "effect": unit.effect,
                    "ci_low": unit.ci_low,
                    "ci_high": unit.ci_high,
                    "p_value": unit.p_value,
                    "half_life_days": unit.half_life_days,
                }
            )
            rows.append(_row(event_type, kind, horizon_days, PER_UNIT, **counts, **arm_counts, **result))
        rows.append(
            _churn_row(
                event_type, exposed, pool, event_keys, keys, pop, as_of_day, churn_horizon_days,
                washout_days, controls_per_exposed, counts,
            )
        )  # fmt: skip

    return pa.Table.from_pylist(rows, schema=OUTPUT_SCHEMA)


def _score_arm(series: _Series, keys: _Keys, units: _Units, horizon_days: int, dose: np.ndarray | None) -> _Arm:
    """The units with the outcome in (t, t + horizon_days], with their mean outcome there."""
    n, total = series.window(keys(units.codes, units.days + 1), keys(units.codes, units.days + horizon_days + 1))
    has = n > 0
    size = np.ones(units.size) if dose is None else dose
    return _Arm(units.strata[has], total[has] / n[has], size[has], units.codes[has])


def _churn_row(
    event_type: str,
    exposed: _Units,
    pool: _Pool,
    event_keys: np.ndarray,
    keys: _Keys,
    pop: _Population,
    as_of_day: int,
    churn_horizon_days: int,
    washout_days: int,
    controls_per_exposed: int,
    counts: dict[str, int],
) -> dict[str, Any]:
    """The churn hazard ratio of the exposed against churn controls (see Churn in the module docstring)."""
    # Churn controls are clear of the event type only in [t - washout_days, t]; their follow-up
    # is censored at their next event of the type, so all of it is unexposed person-time.
    # (Requiring no event in (t, t + horizon] would favour customers who churn early, since a
    # churned customer has no more events, and would bias the hazard ratio downwards.)
    churn_controls = _draw_controls(pool, exposed.strata, event_keys, washout_days, 0, controls_per_exposed)
    follow = []
    for units, censor_at_next_event in ((exposed, False), (churn_controls, True)):
        stop = np.minimum(units.days + churn_horizon_days, as_of_day)
        if censor_at_next_event:
            stop = np.minimum(stop, _next_event_day(event_keys, keys(units.codes, units.days), units.days))
        end = pop.end[units.codes]
        churned = pop.churned[units.codes] & (end <= stop)
        time = np.where(churned, end, stop) - units.days
        at_risk = time > 0
        follow.append((units.strata[at_risk], churned[at_risk].astype(np.float64), time[at_risk].astype(float)))
    (s_e, ev_e, t_e), (s_c, ev_c, t_c) = follow
    churn_counts = {
        **counts,
        "control_units": churn_controls.size,
        "exposed_with_outcome": int(ev_e.sum()),
        "control_with_outcome": int(ev_c.sum()),
    }
    result = _mantel_haenszel_rate_ratio(s_e, ev_e, t_e, s_c, ev_c, t_c) if t_e.size else {"status": "no_outcomes"}
    return _row(event_type, "churn", churn_horizon_days, **churn_counts, **result)
