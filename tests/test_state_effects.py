"""Event library estimator: planted effects are recovered, confounding is handled, edge cases hold."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from empathy.state.effects import OUTPUT_SCHEMA, ROW_KEYS, SCORE_OUTCOMES, estimate_event_effects

DAY0 = date(2024, 1, 1)
N_DAYS = 400
AS_OF = DAY0 + timedelta(days=N_DAYS - 1)

SENTIMENT_EFFECT = -0.3  # late_delivery: sentiment over the 30 days after the event
SURVEY_EFFECT = -0.2  # late_delivery: survey score over the 30 days after the event
CHURN_HR = 2.0  # price_increase: churn hazard over the 90 days after the event
CONFOUNDED_EFFECT = -0.2  # refund (confounded world): sentiment over the 30 days after the event


@dataclass
class World:
    events: pa.Table
    outcomes: pa.Table
    population: pa.Table
    sentiment: np.ndarray  # (customers, days) observed sentiment values, NaN where none
    event_day: np.ndarray  # confounded world only: each customer's single event day, -1 = none


def _dates(day_index: np.ndarray) -> pa.Array:
    return pa.array(np.datetime64(DAY0, "D") + day_index.astype("timedelta64[D]"), type=pa.date32())


def _ids(n: int) -> np.ndarray:
    return np.array([f"c{i:05d}" for i in range(n)], dtype=object)


def _active(events: np.ndarray, length: int) -> np.ndarray:
    """Day d is active when the customer had an event in [d - length, d - 1]."""
    cs = np.cumsum(events, axis=1)
    before = np.pad(cs, ((0, 0), (1, 0)))[:, :-1]
    lagged = np.pad(cs, ((0, 0), (length + 1, 0)))[:, : events.shape[1]]
    return before - lagged > 0


def _tables(
    ids: np.ndarray,
    event_mats: dict[str, np.ndarray],
    sentiment: np.ndarray,
    survey: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
) -> tuple[pa.Table, pa.Table, pa.Table]:
    ev_ids, ev_types, ev_days = [], [], []
    for name, mat in event_mats.items():
        cust, day = np.nonzero(mat)
        ev_ids.append(ids[cust])
        ev_types.append(np.full(cust.size, name, dtype=object))
        ev_days.append(day)
    ev_day = np.concatenate(ev_days)
    events = pa.table(
        {
            "customer_id": pa.array(np.concatenate(ev_ids), type=pa.string()),
            "event_type": pa.array(np.concatenate(ev_types), type=pa.string()),
            "event_date": _dates(ev_day),
            "magnitude": pa.array(np.ones(ev_day.size)),
        }
    )
    parts = []
    for name, mat in (("sentiment", sentiment), ("survey", survey)):
        cust, day = np.nonzero(~np.isnan(mat))
        parts.append((ids[cust], day, np.full(cust.size, name, dtype=object), mat[cust, day]))
    outcomes = pa.table(
        {
            "customer_id": pa.array(np.concatenate([p[0] for p in parts]), type=pa.string()),
            "outcome_date": _dates(np.concatenate([p[1] for p in parts])),
            "outcome": pa.array(np.concatenate([p[2] for p in parts]), type=pa.string()),
            "value": pa.array(np.concatenate([p[3] for p in parts]), type=pa.float64()),
        }
    )
    population = pa.table(
        {
            "customer_id": pa.array(ids, type=pa.string()),
            "start_date": _dates(start),
            "end_date": pa.array(
                np.datetime64(DAY0, "D") + end.astype("timedelta64[D]"), type=pa.date32(), mask=end < 0
            ),
        }
    )
    return events, outcomes, population


def make_world(n: int = 3000, seed: int = 7) -> World:
    """late_delivery lowers sentiment/survey for 30 days, price_increase doubles churn hazard for
    90 days, delight_moment does nothing; events arrive independently of everything else."""
    rng = np.random.default_rng(seed)
    day = np.arange(N_DAYS)
    joins_later = rng.random(n) < 0.2
    start = np.where(joins_later, rng.integers(0, 250, n), -rng.integers(1, 700, n))
    after_start = day[None, :] > start[:, None]
    late = (rng.random((n, N_DAYS)) < 1 / 150) & after_start
    price = (rng.random((n, N_DAYS)) < 1 / 1500) & after_start
    delight = (rng.random((n, N_DAYS)) < 1 / 150) & after_start
    hazard = 0.001 * np.where(_active(price, 90), CHURN_HR, 1.0)
    churn = (rng.random((n, N_DAYS)) < hazard) & after_start
    end = np.where(churn.any(axis=1), churn.argmax(axis=1), -1)
    alive = (day[None, :] >= start[:, None]) & ((end < 0)[:, None] | (day[None, :] < end[:, None]))
    late, price, delight = late & alive, price & alive, delight & alive
    mood = rng.uniform(-0.1, 0.1, n)[:, None]
    hit = _active(late, 30)
    sentiment = mood + SENTIMENT_EFFECT * hit + rng.normal(0, 0.15, (n, N_DAYS))
    sentiment = np.where(alive & (rng.random((n, N_DAYS)) < 1 / 10), np.clip(sentiment, -1, 1), np.nan)
    survey = 0.5 * mood + 0.1 + SURVEY_EFFECT * hit + rng.normal(0, 0.2, (n, N_DAYS))
    survey = np.where(alive & (rng.random((n, N_DAYS)) < 1 / 40), np.clip(survey, -1, 1), np.nan)
    mats = {"late_delivery": late, "price_increase": price, "delight_moment": delight}
    events, outcomes, population = _tables(_ids(n), mats, sentiment, survey, start, end)
    return World(events, outcomes, population, sentiment, np.full(n, -1))


def make_confounded_world(n: int = 3000, seed: int = 11) -> World:
    """Customers with negative mood are six times likelier to get a refund and also score lower
    afterwards; the refund itself lowers sentiment by CONFOUNDED_EFFECT for 30 days."""
    rng = np.random.default_rng(seed)
    day = np.arange(N_DAYS)
    mood = rng.choice(np.array([-0.5, 0.0, 0.4]), size=n, p=[0.3, 0.4, 0.3])
    start = -rng.integers(1, 700, n)
    exposed = rng.random(n) < np.where(mood < 0, 0.6, 0.1)
    event_day = np.where(exposed, rng.integers(100, 361, n), -1)
    refund = day[None, :] == event_day[:, None]
    value = mood[:, None] + CONFOUNDED_EFFECT * _active(refund, 30) + rng.normal(0, 0.15, (n, N_DAYS))
    sentiment = np.where(rng.random((n, N_DAYS)) < 1 / 6, np.clip(value, -1, 1), np.nan)
    survey = np.full((n, N_DAYS), np.nan)
    events, outcomes, population = _tables(_ids(n), {"refund": refund}, sentiment, survey, start, np.full(n, -1))
    return World(events, outcomes, population, sentiment, event_day)


def _row(result: pa.Table, event_type: str, outcome: str, per: str = "exposure") -> dict:
    rows = [
        r
        for r in result.to_pylist()
        if r["event_type"] == event_type and r["outcome"] == outcome and r["effect_per"] == per
    ]
    assert len(rows) == 1, (event_type, outcome, per)
    return rows[0]


def _run(world: World, **kwargs) -> pa.Table:
    return estimate_event_effects(world.events, world.outcomes, world.population, as_of=AS_OF, **kwargs)


@pytest.fixture(scope="module")
def world() -> World:
    return make_world()


@pytest.fixture(scope="module")
def result(world: World) -> pa.Table:
    return _run(world)


def test_output_shape_and_counts(result: pa.Table) -> None:
    assert result.schema.equals(OUTPUT_SCHEMA)
    assert result.num_rows == 3 * len(ROW_KEYS)
    types = result.column("event_type").to_pylist()[:: len(ROW_KEYS)]
    assert types == ["delight_moment", "late_delivery", "price_increase"]
    keys = list(zip(result.column("outcome").to_pylist(), result.column("effect_per").to_pylist(), strict=True))
    assert keys[: len(ROW_KEYS)] == list(ROW_KEYS)
    result = result.filter(pc.field("outcome") != "review")  # the world has no reviews
    for row in result.to_pylist():
        assert row["status"] == "ok", row
        assert row["exposed_units"] >= 500
        # ~5 controls per exposure, drawn within strata
        assert 4.5 * row["exposed_units"] <= row["control_units"] <= 5 * row["exposed_units"]
        assert 0 < row["exposed_with_outcome"] <= row["exposed_units"]
        assert 0 < row["control_with_outcome"] <= row["control_units"]
        assert row["strata_used"] > 0
        assert row["ci_low"] < row["ci_high"]
        assert row["horizon_days"] == (90 if row["outcome"] == "churn" else 30)
        if row["outcome"] == "churn":
            assert row["effect"] is None and row["hazard_ratio"] is not None
        else:
            assert row["hazard_ratio"] is None and row["effect"] is not None
            if row["effect_per"] == "exposure":
                assert row["effect"] == pytest.approx(row["exposed_mean"] - row["control_mean"])
            else:  # the regression's, with the half-life it chose
                assert row["half_life_days"] in (3.0, 7.0, 14.0, 30.0)


def test_planted_sentiment_and_survey_effects_are_recovered(result: pa.Table) -> None:
    for outcome, truth in (("sentiment", SENTIMENT_EFFECT), ("survey", SURVEY_EFFECT)):
        row = _row(result, "late_delivery", outcome)
        assert row["ci_low"] <= truth <= row["ci_high"], row
        assert row["ci_high"] < 0, row
        assert row["p_value"] < 1e-6


def test_planted_churn_hazard_ratio_is_recovered(result: pa.Table) -> None:
    row = _row(result, "price_increase", "churn")
    assert row["ci_low"] <= CHURN_HR <= row["ci_high"], row
    assert row["ci_low"] > 1.0, row
    assert row["p_value"] < 1e-3
    assert row["exposed_mean"] > row["control_mean"]
    assert row["exposed_with_outcome"] >= 30  # churn events behind the estimate


def test_null_event_has_no_effect(result: pa.Table) -> None:
    for outcome in ("sentiment", "survey"):
        row = _row(result, "delight_moment", outcome)
        assert row["ci_low"] <= 0.0 <= row["ci_high"], row
        assert abs(row["effect"]) < 0.02, row
    churn = _row(result, "delight_moment", "churn")
    assert churn["ci_low"] <= 1.0 <= churn["ci_high"], churn
    assert 0.8 < churn["hazard_ratio"] < 1.25, churn


def _window_means(sentiment: np.ndarray, cust: np.ndarray, day: np.ndarray, horizon: int = 30) -> np.ndarray:
    """Mean observed sentiment in (day, day + horizon] per (customer, day); NaN when none."""
    seen = ~np.isnan(sentiment)
    cs_n = np.pad(np.cumsum(seen, axis=1), ((0, 0), (1, 0)))
    cs_v = np.pad(np.cumsum(np.where(seen, sentiment, 0.0), axis=1), ((0, 0), (1, 0)))
    n = cs_n[cust, day + horizon + 1] - cs_n[cust, day + 1]
    total = cs_v[cust, day + horizon + 1] - cs_v[cust, day + 1]
    return np.where(n > 0, total / np.maximum(n, 1), np.nan)


def test_stratification_removes_confounding_by_prior_sentiment() -> None:
    world = make_confounded_world()
    row = _row(_run(world), "refund", "sentiment")
    assert row["status"] == "ok"
    # Naive comparison: exposed customers after their refund vs random days of everyone else.
    rng = np.random.default_rng(0)
    exposed = np.flatnonzero(world.event_day >= 0)
    others = np.flatnonzero(world.event_day < 0)
    after_refund = _window_means(world.sentiment, exposed, world.event_day[exposed])
    unexposed = _window_means(world.sentiment, others, rng.integers(100, 361, others.size))
    naive = np.nanmean(after_refund) - np.nanmean(unexposed)
    assert abs(naive - CONFOUNDED_EFFECT) > 0.15, naive
    assert abs(row["effect"] - CONFOUNDED_EFFECT) < 0.05, row
    assert row["ci_low"] <= CONFOUNDED_EFFECT <= row["ci_high"], row
    # the estimator's own exposed mean carries the confounding; its matched controls remove it
    assert row["exposed_mean"] == pytest.approx(np.nanmean(after_refund), abs=0.03)
    assert row["control_mean"] < np.nanmean(unexposed) - 0.15
    assert _row(_run(world), "refund", "churn")["status"] == "no_churn_events"


def make_frequent_event_world(n: int = 4000, seed: int = 0) -> World:
    """A no-effect event every ~40 days and a constant churn hazard; no outcomes."""
    rng = np.random.default_rng(seed)
    day = np.arange(N_DAYS)
    start = -rng.integers(1, 700, n)
    churn = rng.random((n, N_DAYS)) < 0.002
    end = np.where(churn.any(axis=1), churn.argmax(axis=1), -1)
    alive = (end < 0)[:, None] | (day[None, :] < end[:, None])
    nudge = (rng.random((n, N_DAYS)) < 1 / 40) & alive
    none = np.full((n, N_DAYS), np.nan)
    events, outcomes, population = _tables(_ids(n), {"nudge": nudge}, none, none, start, end)
    return World(events, outcomes, population, none, np.full(n, -1))


def test_churn_controls_do_not_condition_on_future_events() -> None:
    """Churned customers have no more events, so controls required to stay event-free after t
    would over-represent early churners (HR ~0.81 here); censoring controls at their next event
    keeps a no-effect event's hazard ratio near 1."""
    rows = _run(make_frequent_event_world()).to_pylist()
    assert [r["status"] for r in rows] == ["no_outcomes"] * (len(ROW_KEYS) - 1) + ["ok"]
    churn = rows[-1]
    assert 0.9 < churn["hazard_ratio"] < 1.12, churn
    assert churn["control_units"] >= 4.5 * churn["exposed_units"]


def test_deterministic_for_a_seed(world: World, result: pa.Table) -> None:
    assert _run(world, seed=0).equals(result)
    other = _run(world, seed=1)
    assert not other.equals(result)
    assert other.column("exposed_units").equals(result.column("exposed_units"))  # only the controls move


def test_pandas_inputs_match_arrow_inputs(world: World, result: pa.Table) -> None:
    from_pandas = estimate_event_effects(
        world.events.to_pandas(), world.outcomes.to_pandas(), world.population.to_pandas(), as_of=AS_OF
    )
    assert from_pandas.equals(result)


def _empty_inputs() -> tuple[pa.Table, pa.Table, pa.Table]:
    events = pa.table(
        {
            "customer_id": pa.array([], pa.string()),
            "event_type": pa.array([], pa.string()),
            "event_date": pa.array([], pa.date32()),
            "magnitude": pa.array([], pa.float64()),
        }
    )
    outcomes = pa.table(
        {
            "customer_id": pa.array([], pa.string()),
            "outcome_date": pa.array([], pa.date32()),
            "outcome": pa.array([], pa.string()),
            "value": pa.array([], pa.float64()),
        }
    )
    population = pa.table(
        {
            "customer_id": pa.array([], pa.string()),
            "start_date": pa.array([], pa.date32()),
            "end_date": pa.array([], pa.date32()),
        }
    )
    return events, outcomes, population


def test_empty_inputs_give_typed_empty_output() -> None:
    events, outcomes, population = _empty_inputs()
    out = estimate_event_effects(events, outcomes, population, as_of=AS_OF)
    assert out.num_rows == 0
    assert out.schema.equals(OUTPUT_SCHEMA)
    as_frames = [t.to_pandas() for t in _empty_inputs()]
    assert estimate_event_effects(*as_frames, as_of=AS_OF).schema.equals(OUTPUT_SCHEMA)
    # events but nobody in the population: typed rows, no effects
    some = pa.table(
        {
            "customer_id": ["a"],
            "event_type": ["refund"],
            "event_date": pa.array([DAY0], pa.date32()),
            "magnitude": pa.array([None], pa.float64()),
        }
    )
    rows = estimate_event_effects(some, outcomes, population, as_of=AS_OF).to_pylist()
    assert [(r["outcome"], r["effect_per"]) for r in rows] == list(ROW_KEYS)
    assert {r["status"] for r in rows} == {"too_few_exposed"}
    assert all(r["exposed_units"] == 0 and r["effect"] is None and r["hazard_ratio"] is None for r in rows)


@pytest.mark.parametrize(
    ("table", "column"),
    [("events", "event_date"), ("outcomes", "value"), ("population", "start_date"), ("events", "customer_id")],
)
def test_missing_column_is_named(table: str, column: str) -> None:
    inputs = dict(zip(("events", "outcomes", "population"), _empty_inputs(), strict=True))
    inputs[table] = inputs[table].drop_columns([column])
    with pytest.raises(ValueError, match=rf"{table}.*{column}"):
        estimate_event_effects(inputs["events"], inputs["outcomes"], inputs["population"], as_of=AS_OF)


def _washout_case(washout_days: int) -> int:
    """Exposed units for hand-made event histories (all customers alive, windows observable)."""
    histories = {
        "a": [0, 20, 40, 60],  # 0 counts, 20 absorbed, 40 is > 30 after 0, 60 absorbed by 40
        "b": [5, 36],  # 31 days apart: both count
        "c": [5, 35],  # exactly 30 days apart: absorbed
        "d": [0, 10, 20, 30, 40, 50, 60, 70],  # 0 and 40 count
        "e": [0, 0, 0],  # same-day duplicates are one event
        "f": [N_DAYS - 130],  # day N_DAYS - 30: its outcome window runs past as_of, not an exposure
        "g": [50],  # before the customer starts: not an exposure
    }
    ids = [c for c, days in histories.items() for _ in days]
    days = np.array([d for days in histories.values() for d in days]) + 100
    events = pa.table(
        {"customer_id": ids, "event_type": ["x"] * len(ids), "event_date": _dates(days), "magnitude": [1.0] * len(ids)}
    )
    start = np.array([100 if c != "g" else 200 for c in histories])
    population = pa.table(
        {
            "customer_id": list(histories),
            "start_date": _dates(start),
            "end_date": pa.array([None] * len(histories), pa.date32()),
        }
    )
    _, outcomes, _ = _empty_inputs()
    out = estimate_event_effects(events, outcomes, population, as_of=AS_OF, washout_days=washout_days, min_exposed=1)
    counts = set(out.column("exposed_units").to_pylist())
    assert len(counts) == 1
    return counts.pop()


def test_washout_rule() -> None:
    assert _washout_case(30) == 2 + 2 + 1 + 2 + 1  # a, b, c, d, e (f and g never count)
    assert _washout_case(0) == 4 + 2 + 2 + 8 + 1  # every distinct day counts
    assert _washout_case(45) == 2 + 1 + 1 + 2 + 1  # a: 0, 60; d: 0, 50


def test_too_few_exposed_gives_null_rows(world: World) -> None:
    events = world.events.filter(pc.equal(world.events.column("event_type"), "price_increase"))
    out = estimate_event_effects(events.slice(0, 15), world.outcomes, world.population, as_of=AS_OF)
    assert out.num_rows == len(ROW_KEYS)
    for row in out.to_pylist():
        assert row["status"] == "too_few_exposed"
        assert 0 < row["exposed_units"] < 20
        assert row["effect"] is None and row["hazard_ratio"] is None and row["ci_low"] is None
        assert row["control_units"] is None


# --------------------------------------------------------------------------- per unit, clustered intervals

PER_UNIT_EFFECT = -0.04  # per unit of magnitude, on every label in the 10 days after the event
BLOCK_DAYS = 20


def make_repeated_exposure_world(seed: int, n: int = 300, n_days: int = 200) -> World:
    """Customers meet the event again and again (up to once every 20 days, at a rate of their own) with a
    magnitude of 1-5; each label in the 10 days after it moves by PER_UNIT_EFFECT x magnitude. Customers differ
    a lot in their usual mood (-0.5, 0 or 0.5, inside the prior-sentiment bands the estimator matches on), so one
    customer's exposures are far from independent."""
    rng = np.random.default_rng(seed)
    start = -rng.integers(1, 400, n)
    rate = rng.choice(np.array([0.2, 0.9]), size=n)
    happens = rng.random((n, n_days // BLOCK_DAYS)) < rate[:, None]
    event = np.zeros((n, n_days), dtype=bool)
    event[:, ::BLOCK_DAYS] = happens
    size = np.where(event, rng.integers(1, 6, (n, n_days)), 0)
    dose = np.zeros((n, n_days))
    for lag in range(1, 11):
        dose[:, lag:] += size[:, :-lag]
    mood = (rng.choice(np.array([-0.5, 0.0, 0.5]), size=n) + rng.normal(0, 0.05, n))[:, None]
    value = mood + PER_UNIT_EFFECT * dose + rng.normal(0, 0.1, (n, n_days))
    said = np.where(rng.random((n, n_days)) < 0.3, value, np.nan)
    cust, day = np.nonzero(event)
    ids = _ids(n)
    events = pa.table(
        {
            "customer_id": pa.array(ids[cust], type=pa.string()),
            "event_type": pa.array(["late_delivery"] * cust.size, type=pa.string()),
            "event_date": _dates(day),
            "magnitude": pa.array(size[cust, day].astype(float)),
        }
    )
    _, outcomes, population = _tables(
        ids, {"late_delivery": event}, said, np.full(said.shape, np.nan), start, np.full(n, -1)
    )
    return World(events, outcomes, population, said, np.full(n, -1))


def _per_exposure_sentiment(world: World, clustered: bool) -> dict:
    as_of = DAY0 + timedelta(days=world.sentiment.shape[1] - 1)
    result = estimate_event_effects(
        world.events,
        world.outcomes,
        world.population,
        as_of=as_of,
        horizon_days=10,
        washout_days=10,
        clustered=clustered,
    )
    return _row(result, "late_delivery", "sentiment")


def test_clustered_intervals_cover_a_repeated_per_unit_effect_and_naive_ones_do_not() -> None:
    clustered, naive = [], []
    for seed in range(40):
        world = make_repeated_exposure_world(seed)
        clustered.append(_per_exposure_sentiment(world, clustered=True))
        naive.append(_per_exposure_sentiment(world, clustered=False))
    # An exposure of magnitude m moves its labels by PER_UNIT_EFFECT x m: the truth of each world's estimate.
    truths = np.array([PER_UNIT_EFFECT * row["mean_magnitude"] for row in clustered])
    estimates = np.array([row["effect"] for row in clustered])
    assert np.mean(estimates - truths) == pytest.approx(0.0, abs=0.015)
    assert [row["effect"] for row in naive] == pytest.approx(list(estimates))  # same estimate, other interval

    def coverage(rows: list[dict]) -> float:
        return float(np.mean([row["ci_low"] <= t <= row["ci_high"] for row, t in zip(rows, truths, strict=True)]))

    def stated_se(rows: list[dict]) -> float:
        return float(np.mean([(row["ci_high"] - row["ci_low"]) / (2 * 1.959964) for row in rows]))

    spread = float(np.std(estimates - truths, ddof=1))
    assert 0.85 <= coverage(clustered) <= 1.0, coverage(clustered)
    assert 0.75 < spread / stated_se(clustered) < 1.3
    assert coverage(naive) < 0.8, coverage(naive)
    assert spread / stated_se(naive) > 1.5


def test_effect_per_unit_rows_come_from_the_regression_and_keep_the_exposure_counts() -> None:
    world = make_repeated_exposure_world(0, n=600)
    result = estimate_event_effects(
        world.events,
        world.outcomes,
        world.population,
        as_of=DAY0 + timedelta(days=199),
        horizon_days=10,
        washout_days=10,
    )
    per_exposure = _row(result, "late_delivery", "sentiment")
    per_unit = _row(result, "late_delivery", "sentiment", "unit")
    assert 2.5 < per_unit["mean_magnitude"] < 3.5  # magnitudes 1-5
    assert per_unit["exposed_units"] == per_exposure["exposed_units"]
    assert per_unit["half_life_days"] in (3.0, 7.0, 14.0, 30.0) and per_exposure["half_life_days"] is None
    assert per_unit["method"] != per_exposure["method"]
    assert per_unit["ci_high"] < 0 and per_exposure["exposed_customers"] < per_exposure["exposed_units"]


def test_review_ratings_are_an_outcome_and_part_of_valence() -> None:
    """A world whose only labels are review ratings still measures the event (outcome 'review' and 'valence')."""
    world = make_repeated_exposure_world(1, n=600)
    reviews = world.outcomes.set_column(
        world.outcomes.schema.get_field_index("outcome"),
        "outcome",
        pa.array(["review"] * world.outcomes.num_rows, pa.string()),
    )
    result = estimate_event_effects(
        world.events, reviews, world.population, as_of=DAY0 + timedelta(days=199), horizon_days=10, washout_days=10
    )
    for outcome in ("review", "valence"):
        row = _row(result, "late_delivery", outcome)
        assert row["status"] == "ok"
        assert row["ci_low"] <= PER_UNIT_EFFECT * row["mean_magnitude"] <= row["ci_high"] < 0, row
        assert _row(result, "late_delivery", outcome, "unit")["ci_high"] < 0
    assert _row(result, "late_delivery", "sentiment")["status"] == "no_outcomes"


def test_label_sources_map_to_outcomes() -> None:
    from empathy.state.warehouse import LABEL_OUTCOMES

    assert LABEL_OUTCOMES["review"] == "review"
    assert {LABEL_OUTCOMES["survey_nps"], LABEL_OUTCOMES["survey_csat"]} == {"survey"}
    assert set(LABEL_OUTCOMES.values()) <= set(SCORE_OUTCOMES)


def test_event_met_before_a_review_is_an_exposure_with_that_review() -> None:
    """A late delivery dated the promised day (int_customer_events) is exposed from then on: a one-star review
    the customer wrote while still waiting (the parcel came days after it) lies in the exposure's window."""
    world = make_repeated_exposure_world(2, n=600)
    result = estimate_event_effects(
        world.events,
        world.outcomes,
        world.population,
        as_of=DAY0 + timedelta(days=199),
        horizon_days=10,
        washout_days=10,
    )
    moved = _row(result, "late_delivery", "valence")
    # The same history with each event dated 5 days later (at the parcel's arrival) misses labels of the wait.
    late_dates = pc.add(
        world.events.column("event_date").cast(pa.timestamp("s")), pa.scalar(5 * 86400, pa.duration("s"))
    )
    arrival = world.events.set_column(2, "event_date", late_dates.cast(pa.date32()))
    at_arrival = _row(
        estimate_event_effects(
            arrival,
            world.outcomes,
            world.population,
            as_of=DAY0 + timedelta(days=199),
            horizon_days=10,
            washout_days=10,
        ),
        "late_delivery",
        "valence",
    )
    assert moved["effect"] < 1.5 * at_arrival["effect"] < 0, (moved, at_arrival)


def _library_row(
    event_type: str, effect: float, half_width: float, outcome: str = "valence", per: str = "unit"
) -> dict:
    return {
        "event_type": event_type,
        "outcome": outcome,
        "effect_per": per,
        "status": "ok",
        "effect": effect,
        "ci_low": effect - half_width,
        "ci_high": effect + half_width,
        "p_value": 0.01 if half_width < abs(effect) else 0.5,
    }


def test_eval_scores_the_per_unit_valence_rows_against_the_truth_in_library_units() -> None:
    import pandas as pd

    from empathy.state.evaluate import event_library_rows

    truth = pd.DataFrame(
        {
            "event_type": ["late_delivery", "price_increase", "surprise_gift", "web_error"],
            "valence_effect": [-0.09, -0.30, 0.30, -0.04],
        }
    )
    library = pd.DataFrame(
        [
            _library_row("late_delivery", -0.08, 0.02),  # holds -0.09
            _library_row("price_increase", -0.021, 0.002),  # holds -0.30 / 15 = -0.02 per % point
            _library_row("delight_gift", 0.10, 0.05),  # misses 0.30
            _library_row("web_errors", -0.01, 0.01),  # misses -0.04
            _library_row("web_errors", 5.0, 0.1, outcome="sentiment"),  # other outcome: not scored
            _library_row("late_delivery", 5.0, 0.1, per="exposure"),  # per exposure: not scored
        ]
    )
    rows = {row.metric: row for row in event_library_rows(library, truth)}
    coverage = rows["share of 95% intervals holding the true effect"]
    assert (coverage.n, coverage.value) == (4, 0.5)
    spearman = rows["Spearman rho, estimated vs true valence effect per unit"]
    # estimates rank late < price < web < gift, the truth late < web < price < gift: one swap of four
    assert spearman.value == pytest.approx(0.8)
    assert rows["significant effects with the true sign"].value == 1.0
