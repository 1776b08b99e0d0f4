"""Per-unit effects by panel regression: known effects are recovered when one event follows another."""

from __future__ import annotations

import numpy as np
import pytest

from empathy.state.unit_effects import _spread_per_day, fit_unit_effects

PROBLEM_EFFECT = -0.10  # per unit (e.g. per day late), half-life 7 days
REMEDY_EFFECT = 0.20  # per event, half-life 14 days; follows half the problems two days later


def _world(seed: int, n: int = 800, n_days: int = 240) -> tuple:
    rng = np.random.default_rng(seed)
    level = rng.normal(0, 0.4, n)
    problem = rng.random((n, n_days)) < 1 / 45
    size = np.where(problem, rng.integers(1, 6, (n, n_days)), 0).astype(float)
    remedy = np.zeros((n, n_days), dtype=bool)
    remedy[:, 2:] = problem[:, :-2] & (rng.random((n, n_days - 2)) < 0.5)
    day = np.arange(n_days)
    value = np.repeat(level[:, None], n_days, axis=1) + rng.normal(0, 0.15, (n, n_days))
    for matrix, effect, half_life in ((size, PROBLEM_EFFECT, 7.0), (remedy.astype(float), REMEDY_EFFECT, 14.0)):
        cust, when = np.nonzero(matrix)
        for c, d, m in zip(cust, when, matrix[cust, when], strict=True):
            later = day[d + 1 :]
            value[c, d + 1 :] += effect * m * 0.5 ** ((later - d) / half_life)
    said = rng.random((n, n_days)) < 0.25
    cust, when = np.nonzero(said)
    stride = 10_000
    events = {}
    for name, matrix in (("problem", size), ("remedy", remedy.astype(float))):
        c, d = np.nonzero(matrix)
        events[name] = (c * stride + d, matrix[c, d])
    sources = np.where(rng.random(cust.size) < 0.5, "review", "text")
    shift = np.where(sources == "review", 0.3, 0.0)  # sources read the same mood at other levels
    return cust * stride + when, cust, sources, value[cust, when] + shift, events


def test_effects_per_unit_are_recovered_when_a_remedy_follows_the_problem() -> None:
    keys, customer, source, value, events = _world(0)
    fitted = fit_unit_effects(keys, customer, source, value, events)
    problem, remedy = fitted["problem"], fitted["remedy"]
    assert problem.ci_low <= PROBLEM_EFFECT <= problem.ci_high, problem
    assert remedy.ci_low <= REMEDY_EFFECT <= remedy.ci_high, remedy
    assert remedy.ci_low > 0 and problem.ci_high < 0
    assert (problem.half_life_days, remedy.half_life_days) == (7.0, 14.0)


def test_deterministic() -> None:
    args = _world(1, n=300)
    assert fit_unit_effects(*args) == fit_unit_effects(*args)


def test_no_labels_or_no_events_give_nothing() -> None:
    keys, customer, source, value, events = _world(2, n=50, n_days=60)
    assert fit_unit_effects(keys[:0], customer[:0], source[:0], value[:0], events) == {}
    empty = {name: (k[:0], m[:0]) for name, (k, m) in events.items()}
    assert fit_unit_effects(keys, customer, source, value, empty) == {}


@pytest.mark.parametrize("seed", [3, 4])
def test_remedy_is_not_credited_with_the_problem(seed: int) -> None:
    """Compared without the problem in the regression, the remedy looks harmful; with it, it helps."""
    keys, customer, source, value, events = _world(seed, n=400)
    alone = fit_unit_effects(keys, customer, source, value, {"remedy": events["remedy"]})["remedy"]
    both = fit_unit_effects(keys, customer, source, value, events)["remedy"]
    assert alone.effect < both.effect - 0.1
    assert both.ci_low <= REMEDY_EFFECT <= both.ci_high


def test_a_duration_counts_one_unit_a_day_from_its_first_day() -> None:
    keys, magnitude = _spread_per_day(np.array([100, 500]), np.array([2.5, 1.0]))
    assert keys.tolist() == [100, 101, 102, 500]
    assert magnitude.tolist() == [1.0, 1.0, 0.5, 1.0]


def test_a_label_written_during_a_long_wait_sees_only_the_days_so_far() -> None:
    """A 10-day wait hurts 0.05 a day as it goes; counted whole on its first day, the effect looks smaller."""
    rng = np.random.default_rng(5)
    n, n_days, stride = 600, 200, 10_000
    level = rng.normal(0, 0.3, n)
    start = rng.integers(10, n_days - 30, n)
    day = np.arange(n_days)
    value = level[:, None] + rng.normal(0, 0.1, (n, n_days))
    for c in range(n):
        for j in range(10):
            later = day > start[c] + j
            value[c, later] += -0.05 * 0.5 ** ((day[later] - start[c] - j) / 7.0)
    cust, when = np.nonzero(rng.random((n, n_days)) < 0.2)
    args = (cust * stride + when, cust, np.full(cust.size, "review"), value[cust, when])
    events = {"wait": (np.arange(n) * stride + start, np.full(n, 10.0))}
    daily = fit_unit_effects(*args, events, per_day={"wait"}, replicates=20)["wait"]
    whole = fit_unit_effects(*args, events, replicates=20)["wait"]
    assert daily.ci_low <= -0.05 <= daily.ci_high, daily
    assert whole.ci_high < -0.05 or whole.ci_low > -0.05, whole
