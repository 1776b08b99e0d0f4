"""The emotional-state models on small synthetic customer-days where the truth is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from empathy.state.model import (
    DRIVER_OF_FEATURE,
    EMOTIONS,
    STATE_SCHEMA,
    NoLabels,
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
