"""The emotional-state models on small synthetic customer-days where the truth is known."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from empathy.state.model import (
    BASELINE_DRIVER,
    BASELINE_LABEL,
    DRIVER_OF_FEATURE,
    EMOTIONS,
    STATE_SCHEMA,
    NoLabels,
    attribute,
    driver_evidence,
    driver_points,
    fit_state_models,
    pair_with_features,
    predict_states,
)

START = pd.Timestamp("2025-01-01")


def _world(n_customers: int = 600, n_days: int = 120, seed: int = 3):
    """Customer-days whose latent valence falls with late deliveries and rises with orders.

    Labels (surveys, texts) are noisy reads of the valence the day after the features; unhappy customers
    answer surveys more often, so the respondents are not a random sample.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(n_customers):
        base = rng.normal(0.1, 0.25)
        for d in range(0, n_days, 3):
            late = rng.poisson(0.3)
            orders = rng.poisson(0.5)
            rows.append((f"C{c:05d}", START + pd.Timedelta(days=d), late, orders, base))
    days = pd.DataFrame(rows, columns=["customer_id", "state_date", "late_deliveries_30d", "orders_90d", "base"])
    days["valence_true"] = np.clip(days["base"] - 0.3 * days["late_deliveries_30d"] + 0.1 * days["orders_90d"], -1, 1)
    days["noise_feature"] = rng.normal(size=len(days))
    days["sentiment_mean_90d"] = days["base"] + rng.normal(0, 0.05, len(days))  # the customer's usual tone
    days["customer_day_id"] = days["customer_id"] + ":" + days["state_date"].dt.strftime("%Y-%m-%d")
    days["is_eventful"] = True
    days["is_latest"] = days.groupby("customer_id")["state_date"].transform("max") == days["state_date"]
    days["lifecycle_stage"] = "active"
    days["tenure_days"] = 400
    label_rows = days.sample(frac=0.5, random_state=seed)
    labels = pd.DataFrame(
        {
            "customer_id": label_rows["customer_id"],
            "label_date": label_rows["state_date"] + pd.Timedelta(days=1),
            "feature_date": label_rows["state_date"],
            "label_source": np.where(rng.random(len(label_rows)) < 0.3, "survey_nps", "text"),
            "valence": np.clip(label_rows["valence_true"] + rng.normal(0, 0.15, len(label_rows)), -1, 1),
            "arousal": np.clip(0.5 - 0.4 * label_rows["valence_true"] + rng.normal(0, 0.05, len(label_rows)), 0, 1),
            "dominant_emotion": np.where(label_rows["valence_true"] > 0.1, "joy", "anger"),
        }
    )
    labels["raw_score"] = np.clip(np.round(5 + 5 * labels["valence"]), 0, 10)
    inv_rows = days.sample(frac=0.3, random_state=seed + 1)
    p_respond = 0.1 + 0.6 * (inv_rows["valence_true"] < 0)
    invitations = pd.DataFrame(
        {
            "customer_id": inv_rows["customer_id"],
            "invited_date": inv_rows["state_date"] + pd.Timedelta(days=1),
            "feature_date": inv_rows["state_date"],
            "responded": rng.random(len(inv_rows)) < p_respond,
        }
    )
    truth = days[["customer_day_id", "valence_true"]]
    features = days.drop(columns=["base", "valence_true"])
    return features, labels, invitations, truth


@pytest.fixture(scope="module")
def world():
    days, labels, invitations, truth = _world()
    models = fit_state_models(days, labels, invitations, threads=1)
    return days, labels, invitations, truth, models


def test_states_track_the_latent_valence(world):
    days, _, _, truth, models = world
    states = predict_states(models, days, explain=False).to_pandas().merge(truth, on="customer_day_id")
    r = np.corrcoef(states["valence"], states["valence_true"])[0, 1]
    assert r > 0.8, r
    assert states["empathy_score"].between(0, 100).all()
    assert np.allclose(states["empathy_score"], 50 + 50 * states["valence"])
    assert (states["valence_low"] <= states["valence"]).all() and (states["valence"] <= states["valence_high"]).all()
    assert states["confidence"].between(0, 1).all()


def test_output_schema_and_emotions(world):
    days, _, _, _, models = world
    table = predict_states(models, days.head(50))
    assert table.schema == STATE_SCHEMA
    frame = table.to_pandas()
    probs = frame[[f"p_{e}" for e in EMOTIONS]].to_numpy()
    assert np.allclose(probs.sum(axis=1), 1)
    assert set(frame["dominant_emotion"]) <= {"joy", "anger"}
    happy = frame.merge(world[3], on="customer_day_id")
    # the emotion follows the valence it was taught with
    assert happy.loc[happy["valence_true"] > 0.4, "dominant_emotion"].eq("joy").mean() > 0.8


def test_labels_pair_with_the_day_before_never_the_same_day():
    days = pd.DataFrame(
        {
            "customer_id": ["A", "A", "A"],
            "state_date": pd.to_datetime(["2025-01-01", "2025-01-05", "2025-01-06"]),
            "x": [1.0, 2.0, 3.0],
        }
    )
    labels = pd.DataFrame(
        {"customer_id": ["A", "A", "B"], "feature_date": pd.to_datetime(["2025-01-05", "2025-01-04", "2025-01-05"])}
    )
    paired = pair_with_features(days, labels).sort_values("feature_date")
    assert paired["x"].tolist() == [1.0, 2.0]  # 01-04 -> the row of 01-01; 01-05 -> its own day, not 01-06
    assert "B" not in set(paired["customer_id"])  # no features before: left out


def test_propensity_weighting_corrects_respondent_bias(world):
    """Unhappy customers answer more: the propensity model must see it (lower propensity when happy)."""
    days, _, _, truth, models = world
    states = predict_states(models, days, explain=False).to_pandas().merge(truth, on="customer_day_id")
    happy = states["valence_true"] > 0.2
    unhappy = states["valence_true"] < -0.2
    assert states.loc[unhappy, "response_propensity"].mean() > 2 * states.loc[happy, "response_propensity"].mean()


def test_drivers_sum_to_the_score_and_name_the_cause(world):
    days, _, _, _, models = world
    from empathy.state.model import _frame, _matrix

    x = _matrix(_frame(days), models.features)
    names, points = driver_points(models, x)
    expected = models.valence.predict(x, pred_contrib=True)[:, -1]
    # contributions + the expected value give the prediction back, in score points
    assert np.allclose(points.sum(axis=1) / 50 + expected, models.valence.predict(x), atol=1e-6)
    late = days["late_deliveries_30d"].to_numpy() >= 2
    frame = predict_states(models, days).to_pandas()
    top = frame.loc[late, ["driver_1", "driver_1_points", "driver_1_evidence"]]
    assert (top["driver_1"] == "late_delivery").mean() > 0.8
    assert (top.loc[top["driver_1"] == "late_delivery", "driver_1_points"] < 0).all()
    assert DRIVER_OF_FEATURE["late_deliveries_30d"] == "late_delivery"
    # the noise feature never matters much
    assert np.abs(points[:, names.index("noise_feature")]).mean() < 1.0


def test_explain_mask_limits_the_rows_explained(world):
    days, _, _, _, models = world
    mask = np.zeros(len(days), dtype=bool)
    mask[:10] = True
    frame = predict_states(models, days.head(100), explain=mask[:100]).to_pandas()
    assert frame["driver_1"].iloc[10:].isna().all()
    assert frame["driver_1"].iloc[:10].notna().any()


def test_too_few_labels_is_a_clear_error():
    days, labels, invitations, _ = _world(n_customers=5, n_days=9)
    with pytest.raises(NoLabels, match="int_customer_day_labels"):
        fit_state_models(days, labels.head(3), invitations)


def test_time_cutoff_excludes_later_labels(world):
    days, labels, invitations, _, _ = world
    cutoff = START + pd.Timedelta(days=60)
    models = fit_state_models(days, labels, invitations, label_cutoff=cutoff, threads=1)
    assert pd.Timestamp(models.training["last_label"]) < cutoff
    assert models.version != world[4].version


def test_missing_feature_column_names_the_table(world):
    days, _, _, _, models = world
    with pytest.raises(ValueError, match="int_customer_days lacks"):
        predict_states(models, pa.Table.from_pandas(days.drop(columns=["orders_90d"])))


# -- evidence-backed explanations ----------------------------------------------------------------------------------
ZERO_COUNT = re.compile(r":\s*0(?![\d.])")  # "...: 0" cites a count of zero


def test_a_driver_named_after_an_event_needs_the_event(world):
    days, _, _, _, models = world
    frame = predict_states(models, days).to_pandas()
    no_late = (days["late_deliveries_30d"] == 0).to_numpy()
    for k in range(1, 4):
        assert not (frame.loc[no_late, f"driver_{k}"] == "late_delivery").any()
        shown = frame[f"driver_{k}"].notna()
        assert frame.loc[shown, f"driver_{k}_evidence"].notna().all()
        assert frame.loc[shown, f"driver_{k}_points"].notna().all()
        assert not frame.loc[shown, f"driver_{k}_evidence"].str.contains(ZERO_COUNT).any()
    # the customers without late deliveries still get the (positive) effect of not having one: as baseline
    baseline = frame["driver_1"] == BASELINE_DRIVER
    assert baseline.any()
    assert frame.loc[baseline, "driver_1_label"].eq(BASELINE_LABEL).all()
    late = frame.loc[frame["driver_1"] == "late_delivery", "driver_1_evidence"]
    assert late.str.startswith("late deliveries in 30 days: ").all()


def test_attribution_with_the_baseline_still_sums_to_the_score(world):
    days, _, _, _, models = world
    from empathy.state.model import _frame, _matrix

    frame = _frame(days)
    x = _matrix(frame, models.features)
    raw_names, raw = driver_points(models, x)
    names, points = driver_points(models, x, frame)
    assert names[-1] == BASELINE_DRIVER and names[:-1] == raw_names
    assert np.allclose(points.sum(axis=1), raw.sum(axis=1), atol=1e-9)
    expected = models.valence.predict(x, pred_contrib=True)[:, -1]
    assert np.allclose(points.sum(axis=1) / 50 + expected, models.valence.predict(x), atol=1e-6)
    no_late = (days["late_deliveries_30d"] == 0).to_numpy()
    assert (points[no_late, names.index("late_delivery")] == 0).all()
    assert np.allclose(points[~no_late, names.index("late_delivery")], raw[~no_late, names.index("late_delivery")])


def test_evidence_says_what_when_and_how_many_and_never_zero():
    frame = pd.DataFrame(
        {
            "state_date": pd.to_datetime(["2026-06-30", "2026-06-30", "2026-06-30"]),
            "late_deliveries_90d": [2, 0, 1],
            "days_since_late_delivery": [9, np.nan, np.nan],
            "emails_delivered_90d": [5, 5, 0],
            "email_opens_90d": [0, 3, 0],
        }
    )
    groups = pd.DataFrame({"late_delivery": [-12.0, 3.0, -1.0], "email_engagement": [1.0, -2.0, 0.5]})
    gated = attribute(groups, frame)
    assert gated["late_delivery"].tolist() == [-12.0, 0.0, -1.0]
    assert gated["email_engagement"].tolist() == [1.0, -2.0, 0.0]
    assert gated[BASELINE_DRIVER].tolist() == [0.0, 3.0, 0.5]
    assert np.allclose(gated.sum(axis=1), groups.sum(axis=1))
    late = driver_evidence(frame, "late_delivery")
    assert late[0] == "late deliveries in 90 days: 2, the last on 2026-06-21 (9 days ago)"
    assert late[1] is None and late[2] == "late deliveries in 90 days: 1"
    email = driver_evidence(frame, "email_engagement")
    assert email.tolist() == ["e-mails delivered in 90 days: 5", "e-mails delivered in 90 days: 5, opened: 3", None]
    base = driver_evidence(frame.head(1), BASELINE_DRIVER, [["late delivery"]])
    assert base[0] == "none of these in the window, against the average customer: late delivery"


def test_no_nan_in_float_columns_and_no_driver_without_points(world):
    import pyarrow.compute as pc

    days, _, _, _, models = world
    mask = np.zeros(len(days), dtype=bool)
    mask[:50] = True
    table = predict_states(models, days.head(200), explain=mask[:200])
    for f in table.schema:
        if pa.types.is_floating(f.type):
            assert pc.sum(pc.is_nan(table[f.name])).as_py() in (0, None), f.name
    frame = table.to_pandas()
    assert frame["driver_1_points"].iloc[50:].isna().all() and frame["driver_1"].iloc[50:].isna().all()
    assert (frame["driver_1"].isna() == frame["driver_1_points"].isna()).all()


# -- calibrated intervals ------------------------------------------------------------------------------------------
def _noisy_labels(n_customers: int, seed: int, noise: float = 0.3):
    """Labels of a latent state 0.4 * x + u (u: the customer's own level, which no feature shows) plus noise.

    Each customer answers a survey and writes a message on one day (one state, independent noise), writes
    again two days later (the state has moved: a new x) and a month later."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(n_customers):
        u = rng.normal(0, 0.2)
        start = int(rng.integers(0, 150))
        first, second, third = rng.uniform(-1, 1, 3)
        for day, x, source in (
            (start, first, "survey_nps"),
            (start, first, "text"),
            (start + 2, second, "text"),
            (start + 30, third, "text"),
        ):
            rows.append((f"C{c:05d}", START + pd.Timedelta(days=day), x, np.clip(0.4 * x + u, -1, 1), source))
    frame = pd.DataFrame(rows, columns=["customer_id", "label_date", "x", "state", "label_source"])
    frame["valence"] = np.clip(frame["state"] + rng.normal(0, noise, len(frame)), -1, 1)
    return frame


def test_conformal_interval_covers_the_latent_state_at_its_level():
    from empathy.state.model import _lgb, calibrate_interval, interval_coverage

    train = _noisy_labels(3000, seed=11)
    x = train[["x"]]
    weight = np.ones(len(train))
    interval = calibrate_interval(train, x, weight, level=0.8, threads=1)
    assert interval.n_pairs == 3000 and interval.noise_corrected
    assert 0.25 < interval.noise_sd < 0.35  # the label noise is 0.3
    model = _lgb("regressor", 7, 1).fit(x, train["valence"])
    held_out = _noisy_labels(2000, seed=12)  # customers the models never saw
    valence = np.clip(model.predict(held_out[["x"]]), -1, 1)
    low, high = interval.bounds(valence)
    assert abs(interval_coverage(low, high, held_out["state"]) - 0.8) <= 0.03
    # the interval of a new label is wider and covers the noisy labels at the level too
    assert interval.label_half_width > interval.half_width
    label_low, label_high = interval.label_bounds(valence, held_out["label_source"].to_numpy())
    assert abs(interval_coverage(label_low, label_high, held_out["valence"]) - 0.8) <= 0.03
    # too few pairs to measure the noise: no correction, the (wider) interval of a new label
    few = calibrate_interval(train.head(160), x.head(160), weight[:160], level=0.8, threads=1)
    assert few.n_pairs < 50 and not few.noise_corrected and few.half_width == few.label_half_width > 0


def _eventful_world(n: int, seed: int, p_event: float, labels: bool = True) -> pd.DataFrame:
    """Customer-days where an event (`e` = 1) makes the state harder to read (its unexplained part has sd 0.22,
    else 0.15); labels are written on the day, two independent readings each, with noise of the same size."""
    rng = np.random.default_rng(seed)
    x, e = rng.uniform(-1, 1, n), (rng.uniform(size=n) < p_event).astype(float)
    sd = np.where(e == 1, 0.22, 0.15)
    state = np.clip(0.4 * x + rng.normal(0, 1, n) * sd, -1, 1)
    if not labels:
        return pd.DataFrame({"x": x, "e": e, "state": state})
    day = START + pd.to_timedelta(rng.integers(0, 150, n), unit="D")
    ids = [f"C{i:05d}" for i in range(n)]
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "customer_id": ids,
                    "label_date": day,
                    "x": x,
                    "e": e,
                    "state": state,
                    "label_source": source,
                    "valence": np.clip(state + rng.normal(0, 1, n) * sd, -1, 1),
                }
            )
            for source in ("survey_nps", "text")
        ],
        ignore_index=True,
    )


def test_the_interval_is_for_the_days_a_state_is_shown_not_the_days_labels_come():
    from empathy.state.model import _lgb, calibrate_interval, interval_coverage

    train = _eventful_world(3000, seed=1, p_event=0.7)  # labels come on eventful days
    shown = _eventful_world(20000, seed=2, p_event=0.2, labels=False)  # most days a state is shown are quiet
    x, weight = train[["x", "e"]], np.ones(len(train))
    valence = np.clip(_lgb("regressor", 7, 1).fit(x, train["valence"]).predict(shown[["x", "e"]]), -1, 1)
    on_labels = calibrate_interval(train, x, weight, threads=1)
    on_shown = calibrate_interval(
        train, x, weight, x_population=shown[["x", "e"]].head(5000), population_weight=np.ones(5000), threads=1
    )
    assert interval_coverage(*on_labels.bounds(valence), shown["state"]) > 0.85  # too wide for the shown days
    assert abs(interval_coverage(*on_shown.bounds(valence), shown["state"]) - 0.8) <= 0.03
    assert on_shown.label_half_width == on_labels.label_half_width  # a new label still comes on a label day


def test_days_each_state_stands_for_and_the_shown_days_sample():
    from empathy.state.model import days_each_state_stands_for, shown_days_sample

    frame = pd.DataFrame(
        {
            "customer_id": ["B", "A", "A", "A"],
            "state_date": pd.to_datetime(["2026-01-05", "2026-01-09", "2026-01-01", "2026-01-03"]),
            "f": [1.0, 2.0, 3.0, 4.0],
        }
    )
    assert days_each_state_stands_for(frame, "2026-01-11").tolist() == [6, 2, 2, 6]
    x, days = shown_days_sample(frame, ["f"], "2026-01-03", "2026-01-09")
    assert x["f"].tolist() == [4.0, 1.0] and days.tolist() == [6, 4]  # rows of the window, to its end


def test_a_comment_written_with_its_score_is_not_an_independent_reading():
    from empathy.state.model import error_share

    # every customer answers a survey with a comment whose tone follows the score (shared noise) on one day;
    # one in four also writes an unrelated message on another day beside another survey answer
    rng = np.random.default_rng(5)
    n = 4000
    error = rng.normal(0, 0.2, n)  # the model's error on the state: its variance is 0.04
    shared = rng.normal(0, 0.25, n)  # the answer's own noise, which its comment repeats
    rows = []
    for c in range(n):
        rows.append((f"C{c}", START, "survey_nps", 0, error[c] + shared[c]))
        rows.append((f"C{c}", START, "text", 1, error[c] + shared[c] + rng.normal(0, 0.1)))
        if c % 4 == 0:
            later = START + pd.Timedelta(days=40)
            rows.append((f"C{c}", later, "survey_nps", 0, error[c] + rng.normal(0, 0.25)))
            rows.append((f"C{c}", later, "text", 0, error[c] + rng.normal(0, 0.3)))
    pairs = pd.DataFrame(rows, columns=["customer_id", "label_date", "label_source", "n_answer_comments", "residual"])
    share, n_pairs = error_share(pairs, pairs["residual"].to_numpy(), {})
    assert n_pairs == n // 4
    variance = np.mean(pairs["residual"].to_numpy() ** 2)
    assert abs(share * variance - 0.04) < 0.01  # the error variance, not error + shared noise
    # read as independent, the comment pairs take the shared noise for the state's error
    naive, _ = error_share(pairs.drop(columns="n_answer_comments"), pairs["residual"].to_numpy(), {})
    assert naive * variance > 0.08


def test_the_interval_is_judged_on_the_label_day_without_its_own_reading():
    from empathy.state.model import READING_FEATURES, _frame, _matrix, label_day_matrix

    days = pd.DataFrame(
        {
            "customer_id": ["A", "A", "B"],
            "state_date": pd.to_datetime(["2025-01-01", "2025-01-02", "2025-01-01"]),
            "late_deliveries_30d": [0.0, 1.0, 0.0],
            "sentiment_mean_7d": [0.5, -0.9, 0.1],
        }
    )
    labels = pd.DataFrame(
        {
            "customer_id": ["A", "B"],
            "label_date": pd.to_datetime(["2025-01-02", "2025-01-02"]),
            "feature_date": pd.to_datetime(["2025-01-01", "2025-01-01"]),
            "label_source": ["text", "text"],
        }
    )
    frame = _frame(days)
    features = ["late_deliveries_30d", "sentiment_mean_7d"]
    assert "sentiment_mean_7d" in READING_FEATURES and "late_deliveries_30d" not in READING_FEATURES
    pairs = pair_with_features(frame, labels)
    x_day = label_day_matrix(frame, labels, pairs, features)
    by_customer = dict(zip(pairs["customer_id"], x_day.to_dict("records"), strict=True))
    # the day's late parcel is known; the day's own text (sentiment -0.9) is not
    assert by_customer["A"] == {"late_deliveries_30d": 1.0, "sentiment_mean_7d": 0.5}
    assert by_customer["B"] == {"late_deliveries_30d": 0.0, "sentiment_mean_7d": 0.1}
    assert list(x_day.index) == list(_matrix(pairs, features).index)


def test_interval_is_an_interval(world):
    days, _, _, _, models = world
    states = predict_states(models, days, explain=False).to_pandas()
    assert (states["valence_high"] < 1).mean() > 0.5
    assert (states["empathy_score_low"] < states["empathy_score_high"]).mean() > 0.95
    assert np.allclose(states["confidence"], 1 - (states["valence_high"] - states["valence_low"]) / 2)
