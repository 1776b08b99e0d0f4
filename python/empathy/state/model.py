"""The daily emotional state of every customer: valence, arousal, emotion, Empathy Score, predicted NPS.

Inputs are three relations of the warehouse (as Arrow tables):

* `days` (`int_customer_days`): point-in-time features per customer-day, everything known by the end of
  `state_date`;
* `labels` (`int_customer_day_labels`): what customers said on a common valence scale (survey answers, review
  ratings, the sentiment of their texts), with the day's text arousal and dominant emotion;
* `invitations` (`int_survey_invitations`): every survey invitation and whether it was answered.

Every label is paired with the features of the customer's latest row on or before the day *before* the label
(`feature_date`), so the models learn to anticipate what a customer will say from what was known before they
said it, and never read the answer they are trained on. The models then apply to every customer-day, including
the silent customers who never answer anything.

Models (LightGBM gradient-boosted trees, deterministic, 1 thread per fit unless told otherwise):

* response propensity: P(answer | invitation, state); survey labels are weighted by the stabilised inverse of
  it (clipped to [0.2, 5]) so the respondents stand for everyone (they are not a random sample: the very happy
  and the very unhappy answer more);
* valence (-1..1): all labels, survey answers weighted by their propensity weight, texts at half weight, plus
  the 10% and 90% quantiles for an 80% interval;
* arousal (0..1) and the dominant emotion (7 classes, probabilities): from the customer's texts;
* NPS: the score (0-10) and P(promoter/passive/detractor) from NPS answers, propensity-weighted.

Empathy Score = 50 + 50 * valence (0-100); its confidence is 1 - (q90 - q10) / 2 of the valence interval.
Explanations: LightGBM's exact tree SHAP contributions of the valence model, summed into named drivers and
turned into Empathy Score points.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

EMOTIONS = ("joy", "sadness", "anger", "fear", "surprise", "disgust", "neutral")
NPS_GROUPS = ("detractor", "passive", "promoter")
LIFECYCLE_STAGES = ("new", "active", "cooling", "lapsed", "cancelled")

# Columns of int_customer_days that are not features.
ID_COLUMNS = ("customer_day_id", "customer_id", "state_date", "is_eventful", "is_latest")

# Label sources and their weight in the valence model (texts are many and noisier than answers).
SOURCE_WEIGHTS = {"survey_nps": 1.0, "survey_csat": 1.0, "review": 1.0, "text": 0.5}
PROPENSITY_CLIP = (0.2, 5.0)

# Drivers: a name, what it is to a person, the features whose contributions it sums, and the evidence shown.
# The evidence template reads feature values of the row; the first template whose fields are all present wins.
DRIVERS: list[tuple[str, str, tuple[str, ...], tuple[str, ...]]] = [
    (
        "late_delivery",
        "late delivery",
        (
            "late_deliveries_30d",
            "late_deliveries_90d",
            "late_days_30d",
            "days_since_late_delivery",
            "overdue_parcels",
            "max_days_overdue",
            "deliveries_30d",
        ),
        ("parcel {max_days_overdue:.0f} days overdue", "late delivery {days_since_late_delivery:.0f} days ago"),
    ),
    (
        "unresolved_ticket",
        "unresolved ticket",
        ("open_tickets", "oldest_open_ticket_days", "tickets_opened_90d", "days_since_ticket_opened"),
        ("ticket open for {oldest_open_ticket_days:.0f} days", "ticket opened {days_since_ticket_opened:.0f} days ago"),
    ),
    (
        "ticket_resolution",
        "ticket resolution",
        (
            "tickets_resolved_90d",
            "resolution_hours_mean_90d",
            "first_response_hours_mean_90d",
            "days_since_ticket_resolved",
            "first_responses_90d",
        ),
        ("ticket resolved {days_since_ticket_resolved:.0f} days ago, after {resolution_hours_mean_90d:.0f} h",),
    ),
    (
        "message_tone",
        "tone of recent messages",
        (
            "texts_7d",
            "texts_30d",
            "texts_90d",
            "texts_today",
            "sentiment_mean_today",
            "sentiment_mean_7d",
            "sentiment_mean_30d",
            "sentiment_mean_90d",
            "negative_texts_30d",
            "positive_texts_30d",
            "intensity_mean_30d",
            "sarcastic_texts_30d",
            "days_since_negative_text",
            "days_since_positive_text",
            "praise_90d",
            "emotion_joy_share_30d",
            "emotion_sadness_share_30d",
            "emotion_anger_share_30d",
            "emotion_fear_share_30d",
            "emotion_surprise_share_30d",
            "emotion_disgust_share_30d",
        ),
        (
            "messages of the last 30 days: mean sentiment {sentiment_mean_30d:+.2f}",
            "messages of the last 90 days: mean sentiment {sentiment_mean_90d:+.2f}",
        ),
    ),
    (
        "complaints",
        "complaints and cancellation requests",
        ("complaints_30d", "cancellation_intents_90d"),
        ("{complaints_30d:.0f} complaints in 30 days, {cancellation_intents_90d:.0f} cancellation requests in 90",),
    ),
    (
        "defects_returns",
        "defects and returns",
        ("returns_30d", "returns_90d", "defect_returns_90d", "days_since_defect_return", "order_cancellations_90d"),
        ("defective item returned {days_since_defect_return:.0f} days ago", "{returns_90d:.0f} returns in 90 days"),
    ),
    (
        "price_increase",
        "price increase",
        ("price_increases_90d", "days_since_price_increase", "subscription_cancellations_90d"),
        ("price increase {days_since_price_increase:.0f} days ago",),
    ),
    (
        "billing",
        "billing problems",
        ("payment_failures_30d", "refunds_30d"),
        ("{payment_failures_30d:.0f} failed payments and {refunds_30d:.0f} refunds in 30 days",),
    ),
    (
        "marketing_pressure",
        "marketing pressure",
        ("marketing_emails_7d", "marketing_emails_30d", "over_contact_7d"),
        ("{marketing_emails_7d:.0f} marketing e-mails in 7 days",),
    ),
    (
        "email_engagement",
        "e-mail engagement",
        (
            "emails_delivered_30d",
            "emails_delivered_90d",
            "email_opens_30d",
            "email_opens_90d",
            "email_clicks_30d",
            "email_open_rate_30d",
            "email_open_rate_90d",
            "email_engagement_decay",
            "days_since_email_open",
            "unsubscribes_90d",
            "spam_complaints_90d",
        ),
        (
            "e-mail open rate {email_open_rate_30d:.0%} in 30 days against {email_open_rate_90d:.0%} in 90",
            "no e-mail opened for {days_since_email_open:.0f} days",
        ),
    ),
    (
        "web_friction",
        "web friction",
        (
            "sessions_30d",
            "searches_without_purchase_30d",
            "error_sessions_7d",
            "error_sessions_30d",
            "help_center_views_30d",
        ),
        ("{error_sessions_30d:.0f} sessions with errors and {help_center_views_30d:.0f} help-centre views in 30 days",),
    ),
    (
        "purchases",
        "purchase activity",
        ("orders_90d", "orders_365d", "revenue_365d", "days_since_order"),
        ("last order {days_since_order:.0f} days ago, {orders_365d:.0f} orders in a year",),
    ),
    (
        "contact_effort",
        "contact effort",
        ("inbound_contacts_30d", "inbound_contacts_90d", "live_contacts_30d", "wait_seconds_mean_30d"),
        (
            "{inbound_contacts_30d:.0f} contacts in 30 days, {wait_seconds_mean_30d:.0f} s average wait",
            "{inbound_contacts_30d:.0f} contacts in 30 days",
        ),
    ),
    (
        "feedback",
        "survey and review activity",
        (
            "survey_invitations_90d",
            "survey_responses_90d",
            "ignored_survey_invitations_90d",
            "reviews_90d",
            "social_mentions_90d",
        ),
        ("{ignored_survey_invitations_90d:.0f} survey invitations ignored in 90 days",),
    ),
    (
        "relationship",
        "relationship stage",
        ("tenure_days", "lifecycle_stage", "days_since_engagement"),
        (
            "customer for {tenure_days:.0f} days, last engaged {days_since_engagement:.0f} days ago",
            "customer for {tenure_days:.0f} days",
        ),
    ),
]
DRIVER_OF_FEATURE = {f: name for name, _, features, _ in DRIVERS for f in features}
TOP_DRIVERS = 3
MIN_DRIVER_POINTS = 0.5
MIN_LABELS = 20  # fewer labels of a kind than this: that model is not fitted and its outputs stay empty


class NoLabels(ValueError):
    """Too few labels to fit the state models."""


@dataclass
class StateModels:
    """The fitted models of one build, and what they were fitted on."""

    features: list[str]
    valence: Any
    valence_low: Any
    valence_high: Any
    arousal: Any | None
    emotion: Any | None
    emotion_classes: list[str]
    nps_score: Any
    nps_group: Any
    nps_group_classes: list[str]
    propensity: Any
    training: dict[str, Any] = field(default_factory=dict)

    @property
    def version(self) -> str:
        """A short hash of the feature list and the training summary."""
        blob = json.dumps({"features": self.features, "training": self.training}, sort_keys=True, default=str)
        return "state-" + hashlib.sha256(blob.encode()).hexdigest()[:12]


def _say(progress: Callable[[str], None] | None, message: str) -> None:
    if progress:
        progress(message)


def feature_columns(days: pa.Table | pd.DataFrame) -> list[str]:
    """Every column of int_customer_days but the keys and flags (extra numeric columns become features too)."""
    names = days.column_names if isinstance(days, pa.Table) else list(days.columns)
    return [c for c in names if c not in ID_COLUMNS]


def _frame(days: pa.Table | pd.DataFrame) -> pd.DataFrame:
    frame = days.to_pandas() if isinstance(days, pa.Table) else days.copy()
    frame["state_date"] = pd.to_datetime(frame["state_date"])
    if "lifecycle_stage" in frame:
        frame["lifecycle_stage"] = pd.Categorical(frame["lifecycle_stage"], categories=LIFECYCLE_STAGES)
    return frame


def _matrix(frame: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    x = frame[features].copy()
    for column in features:
        if column == "lifecycle_stage":
            continue
        x[column] = pd.to_numeric(x[column], errors="coerce").astype("float64")
    return x


def pair_with_features(frame: pd.DataFrame, events: pd.DataFrame, date_column: str = "feature_date") -> pd.DataFrame:
    """Each event row joined to the customer's latest customer-day on or before its `date_column` (as of)."""
    if events.empty:
        return events.assign(**{c: pd.Series(dtype=frame[c].dtype) for c in frame.columns if c != "customer_id"})
    left = events.copy()
    left["_on"] = pd.to_datetime(left[date_column]).astype("datetime64[ns]")
    left = left.sort_values("_on", kind="stable")
    right = frame.rename(columns={"state_date": "_state_date"}).sort_values("_state_date", kind="stable")
    right["_on"] = right["_state_date"].astype("datetime64[ns]")
    paired = pd.merge_asof(left, right, on="_on", by="customer_id", direction="backward")
    paired = paired[paired["_state_date"].notna()].drop(columns=["_on"])
    return paired.rename(columns={"_state_date": "feature_state_date"})


def _in_stable_order(table: pd.DataFrame) -> pd.DataFrame:
    """Rows sorted by every column: the warehouse returns rows in no fixed order, and bagging picks rows by position."""
    return table.sort_values(list(table.columns), kind="stable", ignore_index=True) if len(table) else table


def _lgb(kind: str, seed: int, threads: int, **extra: Any) -> Any:
    import lightgbm as lgb

    params = {
        "n_estimators": 200,
        "learning_rate": 0.06,
        "num_leaves": 15,
        "min_child_samples": 30,
        "subsample": 0.8,
        "subsample_freq": 1,
        "colsample_bytree": 0.8,
        "reg_lambda": 1.0,
        "random_state": seed,
        "n_jobs": threads,
        "deterministic": True,
        "force_row_wise": True,
        "verbose": -1,
    }
    params.update(extra)
    if kind == "regressor":
        return lgb.LGBMRegressor(**params)
    return lgb.LGBMClassifier(**params)


def _fit(model: Any, x: pd.DataFrame, y: Any, w: Any = None) -> Any:
    model.fit(x, y, sample_weight=w)
    return model


def fit_state_models(
    days: pa.Table | pd.DataFrame,
    labels: pa.Table | pd.DataFrame,
    invitations: pa.Table | pd.DataFrame,
    *,
    label_cutoff: Any = None,
    seed: int = 7,
    threads: int = 2,
    progress: Callable[[str], None] | None = None,
) -> StateModels:
    """Fit every state model on labels dated before `label_cutoff` (all labels when None)."""
    frame = _frame(days)
    features = feature_columns(frame)
    lab = labels.to_pandas() if isinstance(labels, pa.Table) else labels.copy()
    inv = invitations.to_pandas() if isinstance(invitations, pa.Table) else invitations.copy()
    for table, column in ((lab, "label_date"), (inv, "invited_date")):
        table[column] = pd.to_datetime(table[column])
    lab, inv = _in_stable_order(lab), _in_stable_order(inv)
    if label_cutoff is not None:
        cutoff = pd.Timestamp(label_cutoff)
        lab = lab[lab["label_date"] < cutoff]
        inv = inv[inv["invited_date"] < cutoff]
    if len(lab) < MIN_LABELS:
        raise NoLabels(
            "int_customer_day_labels has no labels to learn from (no survey answers, reviews or customer texts"
            + (f" before {label_cutoff}" if label_cutoff is not None else "")
            + f"): the emotional-state model needs at least {MIN_LABELS}"
        )

    _say(progress, "response propensity")
    inv_pairs = pair_with_features(frame, inv)
    propensity = None
    if len(inv_pairs) >= 50 and inv_pairs["responded"].nunique() == 2:
        propensity = _fit(
            _lgb("classifier", seed, threads, n_estimators=200),
            _matrix(inv_pairs, features),
            inv_pairs["responded"].astype(int),
        )

    pairs = pair_with_features(frame, lab)
    x = _matrix(pairs, features)
    weight = pairs["label_source"].map(SOURCE_WEIGHTS).fillna(1.0).to_numpy(dtype=float)
    is_survey = pairs["label_source"].str.startswith("survey_").to_numpy()
    ipw = np.ones(len(pairs))
    if propensity is not None and is_survey.any():
        p = propensity.predict_proba(x[is_survey])[:, 1]
        stabilised = float(inv_pairs["responded"].mean()) / np.clip(p, 1e-3, None)
        ipw[is_survey] = np.clip(stabilised, *PROPENSITY_CLIP)
    weight = weight * ipw

    _say(progress, f"valence on {len(pairs):,} labels")
    y = pairs["valence"].to_numpy(dtype=float)
    valence = _fit(_lgb("regressor", seed, threads), x, y, weight)
    valence_low = _fit(_lgb("regressor", seed, threads, objective="quantile", alpha=0.1), x, y, weight)
    valence_high = _fit(_lgb("regressor", seed, threads, objective="quantile", alpha=0.9), x, y, weight)

    texts = pairs[(pairs["label_source"] == "text") & pairs["arousal"].notna()]
    _say(progress, f"arousal and emotion on {len(texts):,} text days")
    arousal = emotion = None
    if len(texts) >= MIN_LABELS:
        arousal = _fit(_lgb("regressor", seed, threads), _matrix(texts, features), texts["arousal"].to_numpy(float))
        if texts["dominant_emotion"].nunique() >= 2:
            emotion = _fit(
                _lgb("classifier", seed, threads, n_estimators=120),
                _matrix(texts, features),
                texts["dominant_emotion"].astype(str),
            )

    nps = pairs[pairs["label_source"] == "survey_nps"]
    nps_w = ipw[(pairs["label_source"] == "survey_nps").to_numpy()]
    _say(progress, f"NPS on {len(nps):,} answers")
    nps_score = nps_group = None
    if len(nps) >= MIN_LABELS:
        nps_score = _fit(
            _lgb("regressor", seed, threads, n_estimators=200),
            _matrix(nps, features),
            nps["raw_score"].to_numpy(float),
            nps_w,
        )
        groups = np.where(nps["raw_score"] >= 9, "promoter", np.where(nps["raw_score"] >= 7, "passive", "detractor"))
        if len(set(groups)) >= 2:
            nps_group = _fit(_lgb("classifier", seed, threads, n_estimators=120), _matrix(nps, features), groups, nps_w)

    training = {
        "labels": {str(k): int(v) for k, v in pairs["label_source"].value_counts().sort_index().items()},
        "first_label": str(pairs["label_date"].min().date()),
        "last_label": str(pairs["label_date"].max().date()),
        "invitations": len(inv_pairs),
        "response_rate": float(inv_pairs["responded"].mean()) if len(inv_pairs) else None,
        "cutoff": None if label_cutoff is None else str(label_cutoff),
        "seed": seed,
    }
    return StateModels(
        features=features,
        valence=valence,
        valence_low=valence_low,
        valence_high=valence_high,
        arousal=arousal,
        emotion=emotion,
        emotion_classes=[] if emotion is None else [str(c) for c in emotion.classes_],
        nps_score=nps_score,
        nps_group=nps_group,
        nps_group_classes=[] if nps_group is None else [str(c) for c in nps_group.classes_],
        propensity=propensity,
        training=training,
    )


STATE_SCHEMA = pa.schema(
    [
        ("customer_day_id", pa.string()),
        ("customer_id", pa.string()),
        ("state_date", pa.date32()),
        ("is_latest", pa.bool_()),
        ("lifecycle_stage", pa.string()),
        ("valence", pa.float64()),
        ("valence_low", pa.float64()),
        ("valence_high", pa.float64()),
        ("arousal", pa.float64()),
        *[(f"p_{e}", pa.float64()) for e in EMOTIONS],
        ("dominant_emotion", pa.string()),
        ("empathy_score", pa.float64()),
        ("empathy_score_low", pa.float64()),
        ("empathy_score_high", pa.float64()),
        ("confidence", pa.float64()),
        ("predicted_nps_score", pa.float64()),
        *[(f"p_{g}", pa.float64()) for g in NPS_GROUPS],
        ("response_propensity", pa.float64()),
        *[
            col
            for k in range(1, TOP_DRIVERS + 1)
            for col in (
                (f"driver_{k}", pa.string()),
                (f"driver_{k}_label", pa.string()),
                (f"driver_{k}_points", pa.float64()),
                (f"driver_{k}_evidence", pa.string()),
            )
        ],
        ("model_version", pa.string()),
    ]
)


def _evidence(frame: pd.DataFrame, templates: tuple[str, ...], rows: np.ndarray) -> np.ndarray:
    """The first template whose fields are all present, per row (vectorised per template)."""
    import string

    out = np.full(len(rows), None, dtype=object)
    todo = np.ones(len(rows), dtype=bool)
    for template in templates:
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f]
        if not set(fields) <= set(frame.columns):
            continue
        values = frame.iloc[rows][fields]
        ok = todo & values.notna().all(axis=1).to_numpy()
        if ok.any():
            sub = values[ok]
            out[ok] = [template.format(**dict(zip(fields, r, strict=True))) for r in sub.itertuples(index=False)]
            todo &= ~ok
    return out


def predict_states(
    models: StateModels, days: pa.Table | pd.DataFrame, *, explain: bool | np.ndarray = True
) -> pa.Table:
    """One row per customer-day of `days` with the state, the Empathy Score, the predicted NPS and the drivers.

    `explain` is True (drivers for every row), False (none) or a boolean mask of the rows to explain: exact tree
    SHAP costs about 10 microseconds per tree and row, so a long history is explained where it is read.
    """
    frame = _frame(days)
    missing = [f for f in models.features if f not in frame.columns]
    if missing:
        raise ValueError(f"int_customer_days lacks the model's feature columns {missing}; rebuild it or refit")
    n = len(frame)
    x = _matrix(frame, models.features)
    out: dict[str, Any] = {
        "customer_day_id": frame["customer_day_id"].astype(str).to_numpy(),
        "customer_id": frame["customer_id"].astype(str).to_numpy(),
        "state_date": frame["state_date"].dt.date.to_numpy(),
        "is_latest": frame["is_latest"].astype(bool).to_numpy() if "is_latest" in frame else np.zeros(n, bool),
        "lifecycle_stage": frame["lifecycle_stage"].astype(str).to_numpy()
        if "lifecycle_stage" in frame
        else np.full(n, None),
    }
    if n == 0:
        return pa.Table.from_pylist([], schema=STATE_SCHEMA)
    valence = np.clip(models.valence.predict(x), -1, 1)
    low = np.clip(models.valence_low.predict(x), -1, 1)
    high = np.clip(models.valence_high.predict(x), -1, 1)
    low, high = np.minimum(low, valence), np.maximum(high, valence)
    out.update(valence=valence, valence_low=low, valence_high=high)
    out["arousal"] = np.clip(models.arousal.predict(x), 0, 1) if models.arousal is not None else np.full(n, np.nan)
    if models.emotion is not None:
        proba = models.emotion.predict_proba(x)
        probs = np.zeros((n, len(EMOTIONS)))
        for j, cls in enumerate(models.emotion_classes):
            if cls in EMOTIONS:
                probs[:, EMOTIONS.index(cls)] = proba[:, j]
        probs /= np.clip(probs.sum(axis=1, keepdims=True), 1e-12, None)
        out["dominant_emotion"] = np.asarray(EMOTIONS, dtype=object)[probs.argmax(axis=1)]
    else:
        probs = np.full((n, len(EMOTIONS)), np.nan)
        out["dominant_emotion"] = np.full(n, None, dtype=object)
    for j, e in enumerate(EMOTIONS):
        out[f"p_{e}"] = probs[:, j]
    out["empathy_score"] = 50 + 50 * valence
    out["empathy_score_low"] = 50 + 50 * low
    out["empathy_score_high"] = 50 + 50 * high
    out["confidence"] = np.clip(1 - (high - low) / 2, 0, 1)
    nan = np.full(n, np.nan)
    out["predicted_nps_score"] = np.clip(models.nps_score.predict(x), 0, 10) if models.nps_score is not None else nan
    group_p = {g: nan for g in NPS_GROUPS}
    if models.nps_group is not None:
        gp = models.nps_group.predict_proba(x)
        group_p = {g: np.zeros(n) for g in NPS_GROUPS}
        for j, cls in enumerate(models.nps_group_classes):
            group_p[cls] = gp[:, j]
    for g in NPS_GROUPS:
        out[f"p_{g}"] = group_p[g]
    out["response_propensity"] = models.propensity.predict_proba(x)[:, 1] if models.propensity is not None else nan

    for k in range(1, TOP_DRIVERS + 1):
        out[f"driver_{k}"] = np.full(n, None, dtype=object)
        out[f"driver_{k}_label"] = np.full(n, None, dtype=object)
        out[f"driver_{k}_points"] = np.full(n, np.nan)
        out[f"driver_{k}_evidence"] = np.full(n, None, dtype=object)
    mask = np.full(n, bool(explain)) if np.isscalar(explain) else np.asarray(explain, dtype=bool)
    if mask.any():
        _explain(models, frame, x, out, np.nonzero(mask)[0])
    out["model_version"] = np.full(n, models.version, dtype=object)
    return pa.Table.from_pydict({name: out[name] for name in STATE_SCHEMA.names}, schema=STATE_SCHEMA)


def driver_points(models: StateModels, x: pd.DataFrame) -> tuple[list[str], np.ndarray]:
    """Empathy Score points per driver and row: the valence model's SHAP contributions summed per driver."""
    contrib = models.valence.predict(x, pred_contrib=True)[:, :-1]  # last column: the expected value
    names = [name for name, *_ in DRIVERS]
    extra = sorted({f for f in models.features if f not in DRIVER_OF_FEATURE})
    names_all = names + extra
    index = {name: i for i, name in enumerate(names_all)}
    groups = np.zeros((len(x), len(names_all)))
    for j, feature in enumerate(models.features):
        groups[:, index[DRIVER_OF_FEATURE.get(feature, feature)]] += contrib[:, j]
    return names_all, 50 * groups


def _explain(models: StateModels, frame: pd.DataFrame, x: pd.DataFrame, out: dict[str, Any], rows: np.ndarray) -> None:
    frame = frame.iloc[rows]
    names, points = driver_points(models, x.iloc[rows])
    labels = {name: label for name, label, *_ in DRIVERS}
    templates = {name: tpl for name, _, _, tpl in DRIVERS}
    order = np.argsort(-np.abs(points), axis=1)[:, :TOP_DRIVERS]
    label_of = np.asarray([labels.get(d, d.replace("_", " ")) for d in names], dtype=object)
    for k in range(TOP_DRIVERS):
        idx = order[:, k]
        pts = points[np.arange(len(rows)), idx]
        keep = np.abs(pts) >= MIN_DRIVER_POINTS
        driver = np.asarray(names, dtype=object)[idx]
        out[f"driver_{k + 1}"][rows] = np.where(keep, driver, None)
        out[f"driver_{k + 1}_label"][rows] = np.where(keep, label_of[idx], None)
        out[f"driver_{k + 1}_points"][rows] = np.where(keep, np.round(pts, 2), np.nan)
        evidence = np.full(len(rows), None, dtype=object)
        for name in np.unique(driver[keep]):
            sel = np.nonzero(keep & (driver == name))[0]
            if name in templates:
                evidence[sel] = _evidence(frame, templates[name], sel)
        out[f"driver_{k + 1}_evidence"][rows] = evidence
